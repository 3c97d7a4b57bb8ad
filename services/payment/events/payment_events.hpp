#pragma once
// What the payment service publishes and consumes (docs/saga.md):
//   publishes payment.confirmed and payment.refunded {payment_id, order_id, amount};
//   consumes order.cancelled on payment_queue: refunds a CONFIRMED payment, cancels a
//   PENDING one, and remembers the order so that no payment for it is taken or confirmed.
#include "domain/payment.hpp"
#include "sales/events/consumer.hpp"

namespace payment {

// Puts the event a status change means (if any) into the outbox of `tx`.
void publish_status_change(sales::pg::Transaction& tx, const Payment& p);

sales::events::Dispatcher order_events_dispatcher();

}  // namespace payment

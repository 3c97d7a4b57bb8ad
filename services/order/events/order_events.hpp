#pragma once
// What the order service publishes (docs/saga.md): each event's data, and its enqueueing
// into the outbox inside the transaction that made the change it reports.
#include <optional>
#include <string>
#include <string_view>

#include "domain/order.hpp"

namespace sales::pg {
class Transaction;
}

namespace order {

struct OutgoingEvent {
  std::string type;       // "order.confirmed"
  std::string data_json;  // the envelope's data object
};

// A status change as the saga sees it; payment_id is known when a payment caused it.
struct Transition {
  std::int64_t order_id = 0;
  Status from = Status::Pending;
  Status to = Status::Pending;
  std::string reason;
  std::int64_t total_cents = 0;
  std::optional<std::int64_t> payment_id;
};

std::string correlation_id(std::int64_t order_id);  // "order-42": every event of one saga

OutgoingEvent created_event(const Order& o);
// The event announcing a transition: order.confirmed, .rejected, .paid, .cancelled or
// .refunded; nothing for SHIPPED and DELIVERED, which the shipping service announced itself.
std::optional<OutgoingEvent> transition_event(const Transition& t);
// order.shipped, when shipping's request moved the order to SHIPPED (POST
// /internal/orders/{id}/ship): shipping's own record follows our answer, or this event.
OutgoingEvent shipped_event(std::int64_t order_id);
// order.cancelled once more for an order already CANCELLED or REJECTED, so that a payment
// confirmed meanwhile is refunded (previous_status is the order's status now).
OutgoingEvent cancelled_again_event(std::int64_t order_id, Status current, std::string_view reason);

// Into the outbox of `tx`: published if and only if tx commits.
void publish(sales::pg::Transaction& tx, std::int64_t order_id, const OutgoingEvent& e);

}  // namespace order

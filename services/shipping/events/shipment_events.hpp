#pragma once
// What the shipping service publishes (docs/saga.md): shipment.shipped and
// shipment.delivered {shipment_id, order_id}, through the outbox of the transaction that
// made the change.
#include <string>

#include "domain/shipment.hpp"
#include "sales/pg/pool.hpp"

namespace shipping {

// "order-42": every event about an order carries it (docs/saga.md).
std::string correlation_id(std::int64_t order_id);

// The data of the event a transition into `s.status` publishes.
std::string transition_data(const Shipment& s);

// Enqueues the event of the shipment's new status inside `tx` (none for PENDING/CANCELLED).
void publish_transition(sales::pg::Transaction& tx, const Shipment& s);

}  // namespace shipping

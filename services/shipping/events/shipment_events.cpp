#include "events/shipment_events.hpp"

#include "sales/events/outbox.hpp"
#include "sales/json/writer.hpp"

namespace shipping {

std::string correlation_id(std::int64_t order_id) { return "order-" + std::to_string(order_id); }

std::string transition_data(const Shipment& s) {
  sales::json::Writer w;
  w.begin_object().field("shipment_id", s.id).field("order_id", s.order_id).end_object();
  return w.take();
}

void publish_transition(sales::pg::Transaction& tx, const Shipment& s) {
  auto type = event_for(s.status);
  if (!type) return;
  sales::events::enqueue(tx, *type, transition_data(s), correlation_id(s.order_id));
}

}  // namespace shipping

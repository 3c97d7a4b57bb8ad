#include "events/order_events.hpp"

#include "api/order_json.hpp"
#include "sales/events/outbox.hpp"
#include "sales/json/writer.hpp"

namespace order {

namespace {
std::string cancelled_data(std::int64_t order_id, std::string_view reason, Status previous) {
  sales::json::Writer w;
  w.begin_object().field("order_id", order_id).field("reason", reason).field("previous_status", name(previous));
  return w.end_object().take();
}
}  // namespace

std::string correlation_id(std::int64_t order_id) { return "order-" + std::to_string(order_id); }

OutgoingEvent created_event(const Order& o) {
  sales::json::Writer w;
  w.begin_object().field("order_id", o.id).field("customer_id", o.customer_id);
  write_items(w, o.items);
  w.money_field("total", o.total_cents);
  w.field("shipping_address", o.shipping_address);
  return {"order.created", w.end_object().take()};
}

std::optional<OutgoingEvent> transition_event(const Transition& t) {
  sales::json::Writer w;
  w.begin_object().field("order_id", t.order_id);
  switch (t.to) {
    case Status::Confirmed:
      return OutgoingEvent{"order.confirmed", w.money_field("total", t.total_cents).end_object().take()};
    case Status::Rejected:
      return OutgoingEvent{"order.rejected", w.field("reason", t.reason).end_object().take()};
    case Status::Paid:
      return OutgoingEvent{"order.paid", w.field("payment_id", t.payment_id).end_object().take()};
    case Status::Cancelled:
      return OutgoingEvent{"order.cancelled", cancelled_data(t.order_id, t.reason, t.from)};
    case Status::Refunded:
      return OutgoingEvent{"order.refunded", w.end_object().take()};
    case Status::Pending:
    case Status::Shipped:  // shipping's doing: the internal ship call, or its shipment.shipped
    case Status::Delivered:
      return std::nullopt;
  }
  return std::nullopt;
}

OutgoingEvent shipped_event(std::int64_t order_id) {
  sales::json::Writer w;
  w.begin_object().field("order_id", order_id);
  return {"order.shipped", w.end_object().take()};
}

OutgoingEvent cancelled_again_event(std::int64_t order_id, Status current, std::string_view reason) {
  return {"order.cancelled", cancelled_data(order_id, reason, current)};
}

void publish(sales::pg::Transaction& tx, std::int64_t order_id, const OutgoingEvent& e) {
  sales::events::enqueue(tx, e.type, e.data_json, correlation_id(order_id));
}

}  // namespace order

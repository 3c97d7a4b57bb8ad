#include "events/order_events.hpp"

#include <stdexcept>

#include "sales/events/event_data.hpp"
#include "sales/log/log.hpp"
#include "sales/metrics/metrics.hpp"
#include "store/shipment_store.hpp"

namespace shipping {

namespace events = sales::events;
using sales::pg::Transaction;

namespace {
// order.paid or order.shipped overtook order.created (a retry, or competing consumers): the
// consumer tries the event again later.
[[noreturn]] void no_shipment_yet(std::int64_t order_id) {
  throw std::runtime_error("order " + std::to_string(order_id) + " has no shipment yet; order.created is in flight");
}

void on_created(Transaction& tx, const events::Envelope& e) {
  auto order_id = events::id_field(e, "order_id");
  NewShipment s{order_id, ShipmentStatus::Pending, events::optional_string_field(e, "shipping_address"), false, e.type};
  // Nothing happens when the order has one already (made by POST /shipping, a repeat, or a
  // cancel's tombstone that must stay cancelled).
  insert_if_absent_later(tx, s);
}

sales::metrics::Counter& late_cancels(std::string_view event, std::string_view status) {
  return sales::metrics::global().counter("sales_shipping_late_cancels_total",
                                          "Order cancels or rejections that found the shipment shipped",
                                          {{"event", std::string(event)}, {"status", std::string(status)}});
}

void on_ended(Transaction& tx, const events::Envelope& e) {
  auto order_id = events::id_field(e, "order_id");
  auto reason = events::optional_string_field(e, "reason");
  auto result = cancel_for_order(tx, order_id, reason ? e.type + ": " + *reason : e.type);
  if (result.effect != CancelEffect::TooLate) return;
  // The goods are on their way: the order service refunds instead (DESIGN §4.7).
  std::string status(to_string(result.status));
  sales::log::warn("{} for order {} left shipment {} {}", e.type, order_id, result.shipment_id, status);
  // Counted once it is settled: a consumer batch that rolls back runs its events again.
  tx.after_commit([&counter = late_cancels(e.type, status)] { counter.inc(); });
}

// Normally the shipment is SHIPPED already: PUT /shipping/{id} asked the order to move and
// then committed its own move. This mends the case where shipping died in between.
void on_shipped(Transaction& tx, const events::Envelope& e) {
  auto order_id = events::id_field(e, "order_id");
  if (!ship_for_order(tx, order_id, e.type)) no_shipment_yet(order_id);
}

void on_paid(Transaction& tx, const events::Envelope& e) {
  auto order_id = events::id_field(e, "order_id");
  if (!mark_paid(tx, order_id)) no_shipment_yet(order_id);
}
}  // namespace

events::Dispatcher order_dispatcher() {
  // Every series at 0 from the start: one born at 1 gives increase() nothing, and the first
  // parcel shipped for a cancelled order would raise no alert.
  for (auto event : {"order.rejected", "order.cancelled"}) {
    for (auto status : {ShipmentStatus::Shipped, ShipmentStatus::Delivered}) late_cancels(event, to_string(status));
  }
  return events::Dispatcher{}
      .on("order.created", on_created)
      .on("order.rejected", on_ended)
      .on("order.cancelled", on_ended)
      .on("order.paid", on_paid)
      .on("order.shipped", on_shipped);
}

}  // namespace shipping

#include "events/order_events.hpp"

#include <stdexcept>

#include "sales/log/log.hpp"
#include "sales/metrics/metrics.hpp"
#include "store/shipment_store.hpp"

namespace shipping {

namespace events = sales::events;
using sales::pg::Transaction;

std::int64_t order_id_of(const boost::json::object& data) {
  const auto* v = data.if_contains("order_id");
  if (v && v->is_int64() && v->as_int64() > 0) return v->as_int64();
  throw events::PoisonEvent("data.order_id must be a positive integer");
}

std::optional<std::string> optional_string(const boost::json::object& data, const char* name) {
  const auto* v = data.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) throw events::PoisonEvent(std::string("data.") + name + " must be a string or null");
  return std::string(v->as_string());
}

namespace {
// order.paid or order.shipped overtook order.created (a retry, or competing consumers): the
// consumer tries the event again later.
[[noreturn]] void no_shipment_yet(std::int64_t order_id) {
  throw std::runtime_error("order " + std::to_string(order_id) + " has no shipment yet; order.created is in flight");
}

void on_created(Transaction& tx, const events::Envelope& e) {
  auto order_id = order_id_of(e.data);
  NewShipment s{order_id, ShipmentStatus::Pending, optional_string(e.data, "shipping_address"), false, e.type};
  // Nothing happens when the order has one already (made by POST /shipping, a repeat, or a
  // cancel's tombstone that must stay cancelled).
  insert_if_absent_later(tx, s);
}

void on_ended(Transaction& tx, const events::Envelope& e) {
  auto order_id = order_id_of(e.data);
  auto reason = optional_string(e.data, "reason");
  auto result = cancel_for_order(tx, order_id, reason ? e.type + ": " + *reason : e.type);
  if (result.effect != CancelEffect::TooLate) return;
  // The goods are on their way: the order service refunds instead (DESIGN §4.7).
  std::string status(to_string(result.status));
  sales::log::warn("{} for order {} left shipment {} {}", e.type, order_id, result.shipment_id, status);
  sales::metrics::global()
      .counter("sales_shipping_late_cancels_total", "Order cancels or rejections that found the shipment shipped",
               {{"event", e.type}, {"status", status}})
      .inc();
}

// Normally the shipment is SHIPPED already: PUT /shipping/{id} asked the order to move and
// then committed its own move. This mends the case where shipping died in between.
void on_shipped(Transaction& tx, const events::Envelope& e) {
  auto order_id = order_id_of(e.data);
  if (!ship_for_order(tx, order_id, e.type)) no_shipment_yet(order_id);
}

void on_paid(Transaction& tx, const events::Envelope& e) {
  auto order_id = order_id_of(e.data);
  if (!mark_paid(tx, order_id)) no_shipment_yet(order_id);
}
}  // namespace

events::Dispatcher order_dispatcher() {
  return events::Dispatcher{}
      .on("order.created", on_created)
      .on("order.rejected", on_ended)
      .on("order.cancelled", on_ended)
      .on("order.paid", on_paid)
      .on("order.shipped", on_shipped);
}

}  // namespace shipping

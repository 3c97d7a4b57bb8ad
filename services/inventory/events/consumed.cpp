#include "events/consumed.hpp"

#include <boost/json/array.hpp>

#include "domain/stock.hpp"
#include "sales/log/log.hpp"
#include "store/stock_store.hpp"

namespace inventory {

namespace events = sales::events;
using sales::pg::Transaction;

namespace {
std::int64_t integer(const boost::json::object& data, const events::Envelope& e, const char* name, std::int64_t min,
                     std::int64_t max) {
  const auto* v = data.if_contains(name);
  if (v == nullptr || !v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
    throw events::PoisonEvent(e.type + " " + e.id + ": \"" + name + "\" must be an integer from " +
                              std::to_string(min) + " to " + std::to_string(max));
  }
  return v->as_int64();
}

std::int64_t id(const boost::json::object& data, const events::Envelope& e, const char* name) {
  return integer(data, e, name, 1, INT64_MAX);
}
}  // namespace

InitialStock decode_product_created(const events::Envelope& e) {
  return {id(e.data, e, "product_id"), integer(e.data, e, "stock", 0, kMaxInitialStock)};
}

std::int64_t decode_product_id(const events::Envelope& e) { return id(e.data, e, "product_id"); }

std::int64_t decode_order_id(const events::Envelope& e) { return id(e.data, e, "order_id"); }

OrderLines decode_order_created(const events::Envelope& e) {
  OrderLines order{decode_order_id(e), {}, e.failed_attempts};
  const auto* items = e.data.if_contains("items");
  if (items == nullptr || !items->is_array() || items->as_array().empty() ||
      items->as_array().size() > kMaxOrderLines) {
    throw events::PoisonEvent(e.type + " " + e.id + ": \"items\" must be an array of 1 to " +
                              std::to_string(kMaxOrderLines) + " lines");
  }
  for (const auto& item : items->as_array()) {
    if (!item.is_object()) throw events::PoisonEvent(e.type + " " + e.id + ": every item must be an object");
    order.lines.push_back({id(item.as_object(), e, "product_id"),
                           integer(item.as_object(), e, "quantity", 1, kMaxTakeQuantity)});
  }
  return order;
}

events::Dispatcher inventory_dispatcher() {
  return events::Dispatcher{}
      .on("product.created",
          [](Transaction& tx, const events::Envelope& e) {
            auto created = decode_product_created(e);
            if (!create_stock(tx, created.product_id, created.stock)) {
              sales::log::info("product {} already has a stock row; product.created {} changes nothing",
                               created.product_id, e.id);
            }
          })
      .on("product.deleted", [](Transaction& tx, const events::Envelope& e) { mark_deleted(tx, decode_product_id(e)); })
      .on("order.created",
          [](Transaction& tx, const events::Envelope& e) {
            auto order = decode_order_created(e);
            auto outcome = reserve(tx, order);
            if (outcome == ReserveOutcome::AlreadyHandled) {
              sales::log::info("order {} already has a reservation row; order.created {} changes nothing",
                               order.order_id, e.id);
            }
          })
      .on("order.cancelled", [](Transaction& tx, const events::Envelope& e) { cancel(tx, decode_order_id(e)); });
}

}  // namespace inventory

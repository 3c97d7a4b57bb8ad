#include "events/consumed.hpp"

#include <boost/json/array.hpp>

#include "domain/stock.hpp"
#include "sales/events/event_data.hpp"
#include "sales/log/log.hpp"
#include "store/stock_store.hpp"

namespace inventory {

namespace events = sales::events;
using sales::pg::Transaction;


InitialStock decode_product_created(const events::Envelope& e) {
  return {events::id_field(e, "product_id"), events::integer_field(e, "stock", 0, kMaxInitialStock)};
}

std::int64_t decode_product_id(const events::Envelope& e) { return events::id_field(e, "product_id"); }

std::int64_t decode_order_id(const events::Envelope& e) { return events::id_field(e, "order_id"); }

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
    order.lines.push_back({events::id_field(e, item.as_object(), "product_id"),
                           events::integer_field(e, item.as_object(), "quantity", 1, kMaxTakeQuantity)});
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

#include "events/published.hpp"

#include "sales/events/outbox.hpp"
#include "sales/json/writer.hpp"

namespace inventory {

std::string order_correlation(std::int64_t order_id) { return "order-" + std::to_string(order_id); }

void publish_stock_changed(sales::pg::Transaction& tx, const StockLevel& level, const std::string& correlation_id) {
  sales::json::Writer data;
  data.begin_object().field("product_id", level.product_id).field("stock", level.stock);
  data.field("version", level.version).end_object();
  sales::events::enqueue(tx, "inventory.stock_changed", data.str(), correlation_id);
}

void publish_reserved(sales::pg::Transaction& tx, std::int64_t order_id, const std::vector<Line>& items) {
  sales::json::Writer data;
  data.begin_object().field("order_id", order_id).key("items").begin_array();
  for (const auto& item : items) {
    data.begin_object().field("product_id", item.product_id).field("quantity", item.quantity).end_object();
  }
  data.end_array().end_object();
  sales::events::enqueue(tx, "inventory.reserved", data.str(), order_correlation(order_id));
}

void publish_rejected(sales::pg::Transaction& tx, std::int64_t order_id, const ReservationDecision& decision) {
  sales::json::Writer data;
  data.begin_object().field("order_id", order_id).field("reason", decision.reason());
  data.field("product_id", decision.line.product_id).field("requested", decision.line.quantity);
  data.field("available", decision.available).end_object();
  sales::events::enqueue(tx, "inventory.rejected", data.str(), order_correlation(order_id));
}

void publish_rejected_again(sales::pg::Transaction& tx, std::int64_t order_id, const std::string& reason) {
  sales::json::Writer data;
  data.begin_object().field("order_id", order_id).field("reason", reason).end_object();
  sales::events::enqueue(tx, "inventory.rejected", data.str(), order_correlation(order_id));
}

}  // namespace inventory

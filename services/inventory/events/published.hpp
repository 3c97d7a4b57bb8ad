#pragma once
// What inventory publishes (docs/saga.md), each enqueued in the caller's transaction so the
// event is committed together with the change it reports.
#include <cstdint>
#include <string>
#include <vector>

#include "domain/reservation.hpp"
#include "domain/stock.hpp"
#include "sales/pg/pool.hpp"

namespace inventory {

// "order-7": the saga's correlation id of everything concerning order 7.
std::string order_correlation(std::int64_t order_id);

// inventory.stock_changed {product_id, stock, version}
void publish_stock_changed(sales::pg::Transaction& tx, const StockLevel& level, const std::string& correlation_id);
// inventory.reserved {order_id, items: [{product_id, quantity}]}
void publish_reserved(sales::pg::Transaction& tx, std::int64_t order_id, const std::vector<Line>& items);
// inventory.rejected {order_id, reason, product_id, requested, available}
void publish_rejected(sales::pg::Transaction& tx, std::int64_t order_id, const ReservationDecision& decision);
// The recorded rejection, answered again to a repeated order.created: the reason only.
void publish_rejected_again(sales::pg::Transaction& tx, std::int64_t order_id, const std::string& reason);

}  // namespace inventory

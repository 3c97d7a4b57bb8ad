#pragma once
// Stock rows and their ledger. Every change goes through apply_changes or apply_changes_later
// (one statement: the UPDATE, its stock_movements rows and its stock_feed rows, from which the
// flusher publishes inventory.stock_changed: store/stock_feed.hpp); callers lock the rows
// first with lock_stock, in product id order.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/reservation.hpp"
#include "domain/stock.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "sales/pg/total_cache.hpp"

namespace inventory {

struct StockPage {
  std::vector<StockLevel> items;
  std::int64_t total = 0;
};

// The product has no stock row, or it was deleted: 404 for the API.
class UnknownProduct : public std::runtime_error {
 public:
  UnknownProduct(std::int64_t product_id, bool deleted)
      : std::runtime_error((deleted ? "deleted product " : "unknown product ") + std::to_string(product_id)),
        product_id(product_id),
        deleted(deleted) {}
  std::int64_t product_id;
  bool deleted;  // its row says so: no need to ask whether it was created moments ago
};

// The change would take stock below zero (or above the maximum): 409 for the API.
class StockRefused : public std::runtime_error {
 public:
  StockRefused(std::int64_t product_id, StockRefusal refusal)
      : std::runtime_error(refusal.describe(product_id)), refusal(refusal) {}
  StockRefusal refusal;
};

class StockStore {
 public:
  explicit StockStore(sales::pg::Pool& pool, sales::pg::TotalCacheConfig totals = {}) : pool_(pool), totals_(totals) {}

  StockPage list(const sales::http::Page& page);  // live products, by product id
  StockLevel level_of(std::int64_t product_id);  // a live product's; else UnknownProduct

 private:
  sales::pg::Pool& pool_;
  sales::pg::TotalCache totals_;  // list totals: a count(*) over the whole stock table
};

struct LockedStock {
  std::int64_t stock = 0;
  bool deleted = false;
};
// SELECT … FOR UPDATE of the lines' products' rows, locked in product id order so that
// concurrent multi-product changes can never deadlock. Unknown products are simply absent.
std::map<std::int64_t, LockedStock> lock_stock(sales::pg::Transaction& tx, const std::vector<Line>& lines);
// The locked rows of a result whose columns from `first_col` on are product_id, stock,
// deleted (as lock_stock selects them); a row with a NULL product_id (an outer join's
// empty side) is skipped.
std::map<std::int64_t, LockedStock> locked_stock_rows(const sales::pg::Result& r, int first_col);

// Applies each line's quantity as a delta (one line per product), records the movements of
// `kind` (with `order_id` for reserve/release), bumps versions and records each product's new
// level in the stock feed (its stock_changed, with `correlation_id`, follows within the
// flush interval). Returns the new levels by product id.
std::vector<StockLevel> apply_changes(sales::pg::Transaction& tx, const std::vector<Line>& deltas, MovementKind kind,
                                      std::optional<std::int64_t> order_id, const std::string& correlation_id);
// The same change for a caller that needs no levels back: queued (exec_later), it travels
// with the transaction's next statement or its COMMIT, one round trip less. A line without a
// stock row fails that statement or the COMMIT (its ledger row's NOT NULL delta) instead of
// throwing here.
void apply_changes_later(sales::pg::Transaction& tx, const std::vector<Line>& deltas, MovementKind kind,
                         std::optional<std::int64_t> order_id, const std::string& correlation_id);

// The API's checked change of one product: lock, check, apply. Throws UnknownProduct,
// StockRefused.
StockLevel change_stock(sales::pg::Transaction& tx, std::int64_t product_id, std::int64_t delta, MovementKind kind);

// product.created: the row with its initial stock (an initial movement, a stock feed row);
// false when the product already has a row (a redelivery, or deleted before it was created).
bool create_stock(sales::pg::Transaction& tx, std::int64_t product_id, std::int64_t initial_stock);
// product.deleted: marks the row deleted, or leaves a deleted row behind when the delete
// overtook the create, so that a late product.created does not bring it back.
void mark_deleted(sales::pg::Transaction& tx, std::int64_t product_id);

// Lines as two bigint[] parameters ('{1,2,3}'), for unnest($1::bigint[], $2::bigint[]).
struct LineArrays {
  std::string product_ids;
  std::string quantities;
};
LineArrays line_arrays(const std::vector<Line>& lines);

}  // namespace inventory

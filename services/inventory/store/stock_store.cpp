#include "store/stock_store.hpp"

#include "sales/pg/sql.hpp"
#include "store/stock_feed.hpp"
#include "store/stock_feed_flusher.hpp"

namespace inventory {

namespace pg = sales::pg;

namespace {
#define STOCK_COLUMNS "product_id, stock, version, " SALES_PG_RFC3339("updated_at")

// Deleted rows too: one statement tells a deleted product from one inventory never heard of.
constexpr pg::Statement kFind{"stock_find", "SELECT " STOCK_COLUMNS ", deleted FROM stock WHERE product_id = $1"};
constexpr pg::Statement kList{"stock_list",
                              SALES_PG_PAGE(STOCK_COLUMNS, "stock", "product_id", "NOT deleted", "$1", "$2")};
constexpr pg::Statement kCount{"stock_count", "SELECT count(*) FROM stock WHERE NOT deleted"};
// ORDER BY under FOR UPDATE: rows are locked in the sorted order, the same in every transaction.
constexpr pg::Statement kLock{"stock_lock",
                              "SELECT product_id, stock, deleted FROM stock WHERE product_id = ANY($1::bigint[]) "
                              "ORDER BY product_id FOR UPDATE"};
// The change, its ledger rows and its stock feed rows in one statement; the CHECK (stock >= 0)
// is the backstop of the callers' checks. One ledger row per line, whether its stock row was
// changed or not: a line without a stock row (the callers locked them all, so a bug) gets a
// NULL delta, which NOT NULL refuses, so the statement fails loudly even when nobody reads
// its result (apply_changes_later).
constexpr pg::Statement kApply{
    "stock_apply",
    "WITH changes AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS c (product_id, delta)), "
    "changed AS (UPDATE stock s SET stock = s.stock + c.delta, version = s.version + 1, updated_at = now() "
    "  FROM changes c WHERE s.product_id = c.product_id "
    "  RETURNING s.product_id, s.stock, s.version, s.updated_at, c.delta), "
    "moved AS (INSERT INTO stock_movements (product_id, delta, kind, order_id) "
    "  SELECT c.product_id, changed.delta, $3, $4::bigint FROM changes c LEFT JOIN changed USING (product_id)), "
    "fed AS (" INVENTORY_STOCK_FEED_UPSERT("changed", "$5::text") ") "
    "SELECT " STOCK_COLUMNS " FROM changed ORDER BY product_id"};
constexpr pg::Statement kCreate{
    "stock_create",
    "WITH created AS (INSERT INTO stock (product_id, initial_stock, stock) VALUES ($1, $2, $2) "
    "  ON CONFLICT (product_id) DO NOTHING RETURNING product_id, stock, version, updated_at), "
    "moved AS (INSERT INTO stock_movements (product_id, delta, kind) SELECT product_id, stock, 'initial' FROM created), "
    "fed AS (" INVENTORY_STOCK_FEED_UPSERT("created", "$3::text") ") "
    "SELECT " STOCK_COLUMNS " FROM created"};
// A row created here by a delete has no stock and no movements: its ledger sums to 0 too.
constexpr pg::Statement kMarkDeleted{
    "stock_mark_deleted",
    "INSERT INTO stock (product_id, initial_stock, stock, deleted) VALUES ($1, 0, 0, true) "
    "ON CONFLICT (product_id) DO UPDATE SET deleted = true, updated_at = now()"};
#undef STOCK_COLUMNS

StockLevel level(const pg::Result& r, int i) {
  return StockLevel{r.int64(i, 0), r.int64(i, 1), r.int64(i, 2), r.str(i, 3)};
}

std::string product_correlation(std::int64_t product_id) { return "product-" + std::to_string(product_id); }
}  // namespace

LineArrays line_arrays(const std::vector<Line>& lines) {
  return {pg::int_array(lines, [](const Line& l) { return l.product_id; }),
          pg::int_array(lines, [](const Line& l) { return l.quantity; })};
}

StockPage StockStore::list(const sales::http::Page& page) {
  StockPage out;
  auto lease = pool_.acquire();
  auto r = lease->exec(kList, {pg::param(page.limit), pg::param(page.offset)});
  for (int i = 0; i < r.rows(); ++i) out.items.push_back(level(r, i));
  out.total = totals_.total("", {page.offset, page.limit, out.items.size(), page.fresh_total},
                            [&] { return lease->exec(kCount, {}).int64(0, 0); });
  return out;
}

StockLevel StockStore::level_of(std::int64_t product_id) {
  auto r = pg::exec(pool_, kFind, {pg::param(product_id)});
  if (r.empty() || r.text(0, 4) == "t") throw UnknownProduct(product_id, !r.empty());
  return level(r, 0);
}

std::map<std::int64_t, LockedStock> lock_stock(pg::Transaction& tx, const std::vector<Line>& lines) {
  return locked_stock_rows(tx.exec(kLock, {pg::param(line_arrays(lines).product_ids)}), 0);
}

std::map<std::int64_t, LockedStock> locked_stock_rows(const pg::Result& r, int first_col) {
  std::map<std::int64_t, LockedStock> out;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.is_null(i, first_col)) continue;
    out[r.int64(i, first_col)] = LockedStock{r.int64(i, first_col + 1), r.text(i, first_col + 2) == "t"};
  }
  return out;
}

namespace {
std::vector<pg::Param> apply_params(const std::vector<Line>& deltas, MovementKind kind,
                                    std::optional<std::int64_t> order_id, const std::string& correlation_id) {
  auto arrays = line_arrays(deltas);
  return {pg::param(arrays.product_ids), pg::param(arrays.quantities), pg::param(to_string(kind)),
          pg::param(order_id), pg::param(correlation_id)};
}
}  // namespace

std::vector<StockLevel> apply_changes(pg::Transaction& tx, const std::vector<Line>& deltas, MovementKind kind,
                                      std::optional<std::int64_t> order_id, const std::string& correlation_id) {
  auto r = tx.exec(kApply, apply_params(deltas, kind, order_id, correlation_id));
  if (static_cast<std::size_t>(r.rows()) != deltas.size()) {
    // The callers locked these rows: a missing one is a bug, and the transaction must not commit.
    throw std::logic_error("stock change matched " + std::to_string(r.rows()) + " of " +
                           std::to_string(deltas.size()) + " products");
  }
  std::vector<StockLevel> levels;
  for (int i = 0; i < r.rows(); ++i) levels.push_back(level(r, i));
  tx.after_commit_once(wake_stock_feed);
  return levels;
}

void apply_changes_later(pg::Transaction& tx, const std::vector<Line>& deltas, MovementKind kind,
                         std::optional<std::int64_t> order_id, const std::string& correlation_id) {
  tx.exec_later(kApply, apply_params(deltas, kind, order_id, correlation_id));
  tx.after_commit_once(wake_stock_feed);
}

StockLevel change_stock(pg::Transaction& tx, std::int64_t product_id, std::int64_t delta, MovementKind kind) {
  auto locked = lock_stock(tx, {{product_id, delta}});
  auto row = locked.find(product_id);
  if (row == locked.end() || row->second.deleted) throw UnknownProduct(product_id, row != locked.end());
  if (auto refusal = check_change(row->second.stock, delta)) throw StockRefused(product_id, *refusal);
  return apply_changes(tx, {{product_id, delta}}, kind, std::nullopt, product_correlation(product_id)).front();
}

bool create_stock(pg::Transaction& tx, std::int64_t product_id, std::int64_t initial_stock) {
  auto r = tx.exec(kCreate,
                   {pg::param(product_id), pg::param(initial_stock), pg::param(product_correlation(product_id))});
  if (r.empty()) return false;
  tx.after_commit_once(wake_stock_feed);
  return true;
}

void mark_deleted(pg::Transaction& tx, std::int64_t product_id) { tx.exec(kMarkDeleted, {pg::param(product_id)}); }

}  // namespace inventory

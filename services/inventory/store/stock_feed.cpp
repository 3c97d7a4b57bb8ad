#include "store/stock_feed.hpp"

#include "events/published.hpp"
#include "sales/pg/sql.hpp"
#include "store/stock_store.hpp"

namespace inventory {

namespace pg = sales::pg;

namespace {
// A flush lost to a crash before its commit reached the disk loses nothing: its deletes go
// with it, so the rows are flushed again (and an event the relay had already published from
// it comes again with the same version, which the product service ignores).
constexpr pg::Statement kAsyncCommit{"stock_feed_async_commit",
                                     "SELECT set_config('synchronous_commit', 'off', true)"};
constexpr pg::Statement kPending{"stock_feed_pending",
                                 "SELECT product_id, stock, version, correlation_id, changes FROM stock_feed "
                                 "ORDER BY product_id LIMIT $1 FOR UPDATE SKIP LOCKED"};
constexpr pg::Statement kFlushed{"stock_feed_flushed",
                                 "DELETE FROM stock_feed f USING unnest($1::bigint[], $2::bigint[]) AS d (product_id, version) "
                                 "WHERE f.product_id = d.product_id AND f.version = d.version"};
constexpr pg::Statement kAny{"stock_feed_any", "SELECT EXISTS (SELECT FROM stock_feed)"};
// In the flush's transaction, after its SKIP LOCKED read: the rows it did not take, which
// another transaction held (read without a lock).
constexpr pg::Statement kSkipped{"stock_feed_skipped",
                                 "SELECT product_id FROM stock_feed WHERE product_id <> ALL($1::bigint[]) "
                                 "ORDER BY product_id LIMIT $2"};
constexpr pg::Statement kLockWait{"stock_feed_lock_wait", "SELECT set_config('lock_timeout', $1, true)"};
constexpr pg::Statement kOne{"stock_feed_one",
                             "SELECT product_id, stock, version, correlation_id, changes FROM stock_feed "
                             "WHERE product_id = $1 FOR UPDATE"};
}  // namespace

namespace {
std::vector<PendingLevel> rows_of(const pg::Result& r) {
  std::vector<PendingLevel> rows;
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    rows.push_back({StockLevel{r.int64(i, 0), r.int64(i, 1), r.int64(i, 2), {}}, r.str(i, 3), r.int64(i, 4)});
  }
  return rows;
}
}  // namespace

std::vector<PendingLevel> read_pending(pg::Transaction& tx, int limit) {
  return rows_of(tx.exec(kPending, {pg::param(std::int64_t{limit})}));
}

void move_to_outbox(pg::Transaction& tx, const std::vector<PendingLevel>& rows) {
  if (rows.empty()) return;
  std::vector<Line> versions;  // (product id, version) pairs, as two bigint[] parameters
  versions.reserve(rows.size());
  for (const auto& row : rows) {
    publish_stock_changed(tx, row.level, row.correlation_id);
    versions.push_back({row.level.product_id, row.level.version});
  }
  auto arrays = line_arrays(versions);
  tx.exec_later(kFlushed, {pg::param(arrays.product_ids), pg::param(arrays.quantities)});
}

FlushCount flush_stock_feed(pg::Pool& pool, int limit, int max_skipped) {
  pg::Transaction tx(pool);
  tx.exec_later(kAsyncCommit);
  auto rows = read_pending(tx, limit);
  FlushCount count{static_cast<std::int64_t>(rows.size()), 0, {}};
  if (max_skipped > 0 && static_cast<int>(rows.size()) < limit) {
    const auto taken = pg::int_array(rows, [](const PendingLevel& row) { return row.level.product_id; });
    count.skipped = tx.exec(kSkipped, {pg::param(taken), pg::param(std::int64_t{max_skipped})}).int64_column(0);
  }
  if (rows.empty()) return count;  // rolled back: it wrote nothing
  move_to_outbox(tx, rows);
  tx.commit();
  for (const auto& row : rows) count.changes += row.changes;
  return count;
}

void flush_held_rows(pg::Pool& pool, const std::vector<std::int64_t>& product_ids, std::chrono::milliseconds wait,
                     FlushCount& count) {
  for (auto product_id : product_ids) {
    // One row a transaction, so that this one holds nothing while it waits: a reservation
    // holding the row may wait for nothing of the flusher's, and no deadlock can form.
    pg::Transaction tx(pool);
    tx.exec_later(kAsyncCommit);
    tx.exec_later(kLockWait, {pg::param(std::to_string(wait.count()) + "ms")});
    std::vector<PendingLevel> rows;
    try {
      rows = rows_of(tx.exec(kOne, {pg::param(product_id)}));
    } catch (const pg::Error& e) {
      if (e.lock_not_available()) continue;  // still held: the next round sees it again
      throw;
    }
    if (rows.empty()) continue;  // flushed meanwhile (another replica)
    move_to_outbox(tx, rows);
    tx.commit();
    ++count.events;
    count.changes += rows.front().changes;
  }
}

bool stock_feed_pending(pg::Pool& pool) { return pg::exec(pool, kAny).text(0, 0) == "t"; }

}  // namespace inventory

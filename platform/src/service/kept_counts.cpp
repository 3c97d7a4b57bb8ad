#include "sales/service/kept_counts.hpp"

#include <atomic>

#include "sales/log/log.hpp"

namespace sales::service {

namespace {
// At most $1 rows (in the heap's order): one statement's work stays the same however far behind
// the folding is (it had to fold everything inside statement_timeout, so past some backlog
// it could never catch up again). The advisory lock's key: the table's own oid, so schemas
// sharing a database (tests) fold theirs independently. Answers the rows removed and added.
constexpr pg::Statement kCompact{
    "kept_counts_compact",
    "WITH mine AS (SELECT pg_try_advisory_xact_lock('kept_counts'::regclass::oid::bigint) AS locked), "
    "gone AS (DELETE FROM kept_counts WHERE (SELECT locked FROM mine) AND ctid = ANY (ARRAY("
    "SELECT ctid FROM kept_counts LIMIT $1::int)) RETURNING tbl, key, n), "
    "kept AS (INSERT INTO kept_counts (tbl, key, n) SELECT tbl, key, sum(n) FROM gone GROUP BY tbl, key "
    "HAVING sum(n) <> 0 RETURNING 1) "
    "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM kept)"};
constexpr int kMaxChunks = 50;  // per call: the next refresh goes on
std::atomic<int> failures_in_a_row{0};
}  // namespace

KeptCountsFold fold_kept_counts(pg::Transaction& tx, int chunk) {
  auto r = tx.exec(kCompact, {pg::param(std::int64_t{chunk})});
  return {r.int64(0, 0), r.int64(0, 1)};
}

void compact_kept_counts(pg::Pool& pool, int chunk) noexcept {
  try {
    for (int i = 0; i < kMaxChunks; ++i) {
      pg::Transaction tx(pool);
      const auto fold = fold_kept_counts(tx, chunk);
      tx.commit();
      if (fold.removed < chunk || fold.added == fold.removed) break;  // all of it, or nothing left to fold
    }
    failures_in_a_row = 0;
  } catch (const std::exception& e) {
    // The sums stay exact without folding; the next refresh folds. Said louder when it keeps
    // failing: the table, and every read of the sums, grows meanwhile.
    const int n = ++failures_in_a_row;
    if (n % 12 == 3) {
      log::warn("kept_counts not folded {} times in a row, the table grows until it is: {}", n, e.what());
    } else {
      log::debug("kept_counts not folded: {}", e.what());
    }
  }
}

}  // namespace sales::service

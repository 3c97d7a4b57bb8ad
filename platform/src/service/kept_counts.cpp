#include "sales/service/kept_counts.hpp"

#include "sales/log/log.hpp"

namespace sales::service {

namespace {
// The advisory lock's key: the table's own oid, so schemas sharing a database (tests) fold
// theirs independently.
constexpr pg::Statement kCompact{
    "kept_counts_compact",
    "WITH mine AS (SELECT pg_try_advisory_xact_lock('kept_counts'::regclass::oid::bigint) AS locked), "
    "gone AS (DELETE FROM kept_counts WHERE (SELECT locked FROM mine) RETURNING tbl, key, n) "
    "INSERT INTO kept_counts (tbl, key, n) SELECT tbl, key, sum(n) FROM gone GROUP BY tbl, key HAVING sum(n) <> 0"};
}  // namespace

void compact_kept_counts(pg::Pool& pool) noexcept {
  try {
    pg::exec(pool, kCompact);
  } catch (const std::exception& e) {
    // The sums stay exact without folding; the next refresh folds.
    log::debug("kept_counts not folded: {}", e.what());
  }
}

}  // namespace sales::service

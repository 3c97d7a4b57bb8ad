#include "sales/service/kept_counts.hpp"

namespace sales::service {

namespace {
// The advisory lock's key: the table's name, hashed (any constant both replicas share).
constexpr pg::Statement kCompact{
    "kept_counts_compact",
    "WITH mine AS (SELECT pg_try_advisory_xact_lock(hashtext('kept_counts')) AS locked), "
    "gone AS (DELETE FROM kept_counts WHERE (SELECT locked FROM mine) RETURNING tbl, key, n) "
    "INSERT INTO kept_counts (tbl, key, n) SELECT tbl, key, sum(n) FROM gone GROUP BY tbl, key HAVING sum(n) <> 0"};
}  // namespace

void compact_kept_counts(pg::Pool& pool) { pg::exec(pool, kCompact); }

}  // namespace sales::service

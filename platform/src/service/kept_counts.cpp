#include "sales/service/kept_counts.hpp"

#include <atomic>

#include "sales/log/log.hpp"

namespace sales::service {

namespace {
// The folding's lock: the table's own oid, so schemas sharing a database (tests) fold theirs
// independently.
#define SALES_KEPT_COUNTS_LOCK "('kept_counts'::regclass::oid::bigint)"

// At most $1 rows (in the heap's order): one statement's work stays the same however far behind
// the folding is (it had to fold everything inside statement_timeout, so past some backlog
// it could never catch up again). Answers the rows removed and added.
constexpr pg::Statement kCompact{
    "kept_counts_compact",
    "WITH mine AS (SELECT pg_try_advisory_xact_lock" SALES_KEPT_COUNTS_LOCK " AS locked), "
    "gone AS (DELETE FROM kept_counts WHERE (SELECT locked FROM mine) AND ctid = ANY (ARRAY("
    "SELECT ctid FROM kept_counts LIMIT $1::int)) RETURNING tbl, key, n), "
    "kept AS (INSERT INTO kept_counts (tbl, key, n) SELECT tbl, key, sum(n) FROM gone GROUP BY tbl, key "
    "HAVING sum(n) <> 0 RETURNING 1) "
    "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM kept)"};
// A TRUNCATE of a counted table empties its counts with a DELETE, which must not run beside
// a fold: it skips the rows the fold deletes yet cannot see the one the fold inserts for
// them, so the old sums stayed for good over an empty table. The emptying takes the fold's
// lock first; its DELETE then sees what the fold committed. Every service's TRUNCATE trigger
// (named <table>_counted_truncate, its counts kept under the table's name: order's 0004,
// inventory's 0005) is pointed at it.
constexpr std::string_view kTruncateWaitsForFold =
    "CREATE OR REPLACE FUNCTION kept_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  PERFORM pg_advisory_xact_lock" SALES_KEPT_COUNTS_LOCK ";\n"
    "  DELETE FROM kept_counts WHERE tbl = TG_TABLE_NAME;\n"
    "  RETURN NULL;\n"
    "END $$;\n"
    "DO $$\n"
    "DECLARE t record;\n"
    "BEGIN\n"
    "  FOR t IN SELECT g.tgname, c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid\n"
    "           WHERE c.relnamespace = current_schema()::regnamespace AND g.tgname = c.relname || '_counted_truncate'\n"
    "  LOOP\n"
    "    EXECUTE format('DROP TRIGGER %I ON %I', t.tgname, t.relname);\n"
    "    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT '\n"
    "                   'EXECUTE FUNCTION kept_counts_truncated()', t.tgname, t.relname);\n"
    "  END LOOP;\n"
    "END $$;\n";
#undef SALES_KEPT_COUNTS_LOCK

constexpr int kMaxChunks = 50;  // per call: the next refresh goes on
std::atomic<int> failures_in_a_row{0};
}  // namespace

pg::Migration kept_counts_migration() { return {9003, "9003_kept_counts_truncate_waits_for_fold", kTruncateWaitsForFold}; }

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

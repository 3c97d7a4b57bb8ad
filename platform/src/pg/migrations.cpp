#include "sales/pg/migrations.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"

namespace sales::pg {

namespace {
// A fixed key: every replica of a service takes the same advisory lock before migrating. A
// session lock, held across the transactions and the statements run outside one below; it
// excludes the transaction-level lock of the same key that earlier versions take.
constexpr const char* kTryLock = "SELECT pg_try_advisory_lock(7243101)";
constexpr auto kLockPoll = std::chrono::milliseconds(100);
// Bounds waiting for a table's lock (see migrate); outside-a-transaction migrations go without.
constexpr const char* kLockTimeout = "SET lock_timeout = '10s'";
constexpr Statement kCreateTable{"migrations_create",
                                 "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, "
                                 "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"};
constexpr Statement kApplied{"migrations_applied", "SELECT version, name FROM schema_migrations"};
constexpr Statement kRecord{"migrations_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};
// What a concurrent build (CREATE INDEX or REINDEX CONCURRENTLY) that failed, or whose
// process died, leaves behind: its index, invalid (never used by a query, still paid for by
// every write). Ours run only while we hold the lock. (relkind 'i': a partitioned table's
// index is invalid by design until its partitions have theirs, and is not ours to drop.)
constexpr Statement kInvalidIndexes{"migrations_invalid_indexes",
                                    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i "
                                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                                    "WHERE NOT i.indisvalid AND c.relkind = 'i' AND n.nspname = current_schema()"};

bool outside_transaction(const Migration& m) { return m.sql.starts_with(kOutsideTransaction); }

// Waits for the lock with no statement open meanwhile: one waiting inside pg_advisory_lock()
// holds a snapshot, which a CREATE INDEX CONCURRENTLY of the replica holding the lock waits
// for, and the server breaks that deadlock by cancelling the build (a known trap: flyway,
// golang-migrate). A replica of an earlier version still waits inside its lock statement;
// the build cancelled then is tried again by the next start attempt, after that replica.
void take_lock(Connection& c, const std::atomic<bool>* stop) {
  while (c.exec_raw(kTryLock).str(0, 0) != "t") {
    if (stop && stop->load()) throw MigrationStopped("stopped while another process held the migration lock");
    std::this_thread::sleep_for(kLockPoll);
  }
}

void drop_invalid_indexes(Connection& c) {
  auto r = c.exec(kInvalidIndexes, {});
  for (int i = 0; i < r.rows(); ++i) {
    log::warn("dropping invalid index {} (left by a concurrent build that failed)", r.str(i, 0));
    c.exec_raw("DROP INDEX CONCURRENTLY IF EXISTS " + r.str(i, 0));
  }
}
}  // namespace

int migrate(Pool& pool, const std::vector<Migration>& migrations, const std::atomic<bool>* stop) {
  auto sorted = migrations;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  // A connection of its own, closed at the end: its session settings and the lock go with
  // it, and so does a transaction an error left open (rolled back).
  Connection c(pool.options().conninfo);
  // A migration takes as long as its data needs (an index on 0.5 M products: ~7 s), not the
  // pool's statement_timeout, which cancelled it and made the service retry it for ever; and
  // another replica waits on the lock as long. The service is not ready meanwhile and logs
  // each migration. Waiting for a table's lock is bounded instead (lock_timeout, after our
  // own lock): DDL queued behind a long transaction would stall every statement on that
  // table behind it; it fails and is tried again later.
  c.exec_raw("SET statement_timeout = 0");
  take_lock(c, stop);
  c.exec_raw(kLockTimeout);
  c.exec(kCreateTable, {});
  std::map<std::int64_t, std::string> done;  // version: the name it was applied under
  auto applied = c.exec(kApplied, {});
  for (int i = 0; i < applied.rows(); ++i) done.emplace(applied.int64(i, 0), applied.str(i, 1));
  // A number reused after its first migration was removed (one that landed and was taken
  // out again) would be skipped for good on every database that applied the first. Checked
  // before anything is applied.
  for (const auto& m : sorted) {
    if (auto it = done.find(m.version); it != done.end() && it->second != m.name) {
      throw MigrationNumberReused(m.name, it->second);
    }
  }
  int count = 0;
  bool in_transaction = false;
  for (const auto& m : sorted) {
    if (done.contains(m.version)) continue;
    log::info("applying migration {}", m.name);
    if (outside_transaction(m)) {
      if (in_transaction) c.exec_raw("COMMIT");  // those before it stay applied if it fails
      in_transaction = false;
      drop_invalid_indexes(c);
      // A concurrent build waits for every older transaction in the database, blocking only
      // DDL and vacuum on its table meanwhile: no lock_timeout, or one long transaction
      // anywhere would make it fail after the whole build, again and again.
      c.exec_raw("SET lock_timeout = 0");
      try {
        c.exec_raw(m.sql);
      } catch (const Error&) {
        try {
          if (c.healthy()) drop_invalid_indexes(c);
        } catch (const Error& cleanup) {  // the build's own error is the one to report
          log::warn("could not drop the invalid index of {} (the next try does): {}", m.name, cleanup.what());
        }
        throw;
      }
      c.exec_raw(kLockTimeout);
    } else {
      if (!in_transaction) c.exec_raw("BEGIN");
      in_transaction = true;
      c.exec_raw(m.sql);
    }
    c.exec(kRecord, {param(m.version), param(m.name)});
    ++count;
  }
  if (in_transaction) c.exec_raw("COMMIT");  // consecutive migrations in one transaction: none or all
  return count;
}

}  // namespace sales::pg

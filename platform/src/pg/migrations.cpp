#include "sales/pg/migrations.hpp"

#include <algorithm>

#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"

namespace sales::pg {

namespace {
// A fixed key: every replica of a service takes the same advisory lock before migrating.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7243101)";
constexpr const char* kLockTimeout = "SET LOCAL lock_timeout = '10s'";
constexpr Statement kCreateTable{"migrations_create",
                                 "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, "
                                 "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"};
constexpr Statement kApplied{"migrations_applied", "SELECT version FROM schema_migrations"};
constexpr Statement kRecord{"migrations_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};
}  // namespace

int migrate(Pool& pool, const std::vector<Migration>& migrations) {
  auto sorted = migrations;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  Transaction tx(pool);
  // A migration takes as long as its data needs (an index on 0.5 M products: ~7 s), not the
  // pool's statement_timeout, which cancelled it and made the service retry it for ever; and
  // another replica waits on the lock below as long. Only for this transaction: the service
  // is not ready meanwhile and logs each migration. Waiting for a table's lock is bounded
  // instead (lock_timeout, after our own lock): DDL queued behind a long transaction would
  // stall every statement on that table behind it; it fails and is tried again later.
  tx.connection().exec_raw("SET LOCAL statement_timeout = 0");
  tx.connection().exec_raw(kLock);
  tx.connection().exec_raw(kLockTimeout);
  tx.exec(kCreateTable);
  auto applied = tx.exec(kApplied);
  std::vector<std::int64_t> done;
  for (int i = 0; i < applied.rows(); ++i) done.push_back(applied.int64(i, 0));
  int count = 0;
  for (const auto& m : sorted) {
    if (std::find(done.begin(), done.end(), m.version) != done.end()) continue;
    log::info("applying migration {}", m.name);
    tx.connection().exec_raw(m.sql);
    tx.exec(kRecord, {param(m.version), param(m.name)});
    ++count;
  }
  tx.commit();  // all pending migrations in one transaction: none or all
  return count;
}

}  // namespace sales::pg

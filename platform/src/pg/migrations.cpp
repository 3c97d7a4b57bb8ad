#include "sales/pg/migrations.hpp"

#include <algorithm>

#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"

namespace sales::pg {

namespace {
// A fixed key: every replica of a service takes the same advisory lock before migrating. A
// session lock, held across the transactions and the statements run outside one below; it
// excludes the transaction-level lock of the same key that earlier versions take.
constexpr const char* kLock = "SELECT pg_advisory_lock(7243101)";
constexpr Statement kCreateTable{"migrations_create",
                                 "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, "
                                 "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"};
constexpr Statement kApplied{"migrations_applied", "SELECT version FROM schema_migrations"};
constexpr Statement kRecord{"migrations_record", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};
// What a CREATE INDEX CONCURRENTLY that failed, or whose process died, leaves behind: its
// index, invalid (never used by a query, still paid for by every write). Only such a build
// makes one in a service's schema, and none runs but ours while we hold the lock.
constexpr Statement kInvalidIndexes{"migrations_invalid_indexes",
                                    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i "
                                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                                    "WHERE NOT i.indisvalid AND n.nspname = current_schema()"};

bool outside_transaction(const Migration& m) { return m.sql.starts_with(kOutsideTransaction); }

void drop_invalid_indexes(Connection& c) {
  auto r = c.exec(kInvalidIndexes, {});
  for (int i = 0; i < r.rows(); ++i) {
    log::warn("dropping invalid index {} (left by a concurrent build that failed)", r.str(i, 0));
    c.exec_raw("DROP INDEX CONCURRENTLY IF EXISTS " + r.str(i, 0));
  }
}
}  // namespace

int migrate(Pool& pool, const std::vector<Migration>& migrations) {
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
  c.exec_raw(kLock);
  c.exec_raw("SET lock_timeout = '10s'");
  c.exec(kCreateTable, {});
  auto applied = c.exec(kApplied, {});
  std::vector<std::int64_t> done;
  for (int i = 0; i < applied.rows(); ++i) done.push_back(applied.int64(i, 0));
  int count = 0;
  bool in_transaction = false;
  for (const auto& m : sorted) {
    if (std::find(done.begin(), done.end(), m.version) != done.end()) continue;
    log::info("applying migration {}", m.name);
    if (outside_transaction(m)) {
      if (in_transaction) c.exec_raw("COMMIT");  // those before it stay applied if it fails
      in_transaction = false;
      drop_invalid_indexes(c);
      try {
        c.exec_raw(m.sql);
      } catch (const Error&) {
        if (c.healthy()) drop_invalid_indexes(c);
        throw;
      }
    } else if (!in_transaction) {
      c.exec_raw("BEGIN");
      in_transaction = true;
      c.exec_raw(m.sql);
    } else {
      c.exec_raw(m.sql);
    }
    c.exec(kRecord, {param(m.version), param(m.name)});
    ++count;
  }
  if (in_transaction) c.exec_raw("COMMIT");  // consecutive migrations in one transaction: none or all
  return count;
}

}  // namespace sales::pg

#pragma once
// Versioned migrations: each service embeds store/migrations/NNNN_name.sql at build time
// (cmake/SalesService.cmake) and applies the ones its database has not seen, in order,
// under an advisory lock so replicas never race. Consecutive migrations share one
// transaction (none or all). One whose SQL starts with kOutsideTransaction runs on its own,
// outside any transaction, after those before it committed: for CREATE INDEX CONCURRENTLY,
// which builds an index without blocking the table's writes. It must be one statement and
// safe to run again (IF NOT EXISTS): a build that failed or was cut short leaves an invalid
// index, which is dropped before the next try, but a process may die after the build and
// before the migration is recorded.
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sales::pg {

class Pool;

struct Migration {
  std::int64_t version;
  std::string_view name;
  std::string_view sql;
};

inline constexpr std::string_view kOutsideTransaction = "-- sales: outside a transaction";

// The process is stopping: migrate() gave up waiting for another replica's lock and applied
// nothing.
class MigrationStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A migration whose version this database recorded under another name: that number was
// used before, by a migration since removed, and this one would never run here. Renumber it.
class MigrationNumberReused : public std::runtime_error {
 public:
  MigrationNumberReused(std::string_view name, const std::string& recorded)
      : std::runtime_error("migration " + std::string(name) + " has the number of " + recorded +
                           ", which this database applied; give it a number of its own") {}
};

// Returns how many migrations were applied now; throws the first failure (those before it
// that committed stay applied). While another replica holds the lock, it waits until that
// one is done; if `stop` (when given) turns true first, it throws MigrationStopped and
// applies nothing: a service told to stop (SIGTERM from an orchestrator) must not wait for
// another's long migration.
// A migration already running is not cut short.
int migrate(Pool& pool, const std::vector<Migration>& migrations, const std::atomic<bool>* stop = nullptr);

}  // namespace sales::pg

namespace sales::generated {
const std::vector<sales::pg::Migration>& migrations();  // defined per service by CMake
}

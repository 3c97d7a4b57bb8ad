// A replica told to stop (SIGTERM) while another replica holds the migration lock stops at
// once: App::run returns 0 instead of waiting out the other's migration, which can take
// minutes (an index on a big table). Runs App in this process against the PostgreSQL of
// `./sales test`, with the lock held by a session of the test.
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "sales/service/app.hpp"
#include "sales_test/env.hpp"
#include "sales_test/test_db.hpp"

namespace sales::service {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The App's database settings (DB_HOST, ...) from the test database's conninfo.
void export_database_settings(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    std::string why = error ? error : "unknown";
    PQfreemem(error);
    throw std::runtime_error("SALES_TEST_DB_CONNINFO does not parse: " + why);
  }
  const std::map<std::string, const char*> names{
      {"host", "DB_HOST"}, {"port", "DB_PORT"}, {"dbname", "DB_NAME"}, {"user", "DB_USER"}, {"password", "DB_PASSWORD"}};
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    auto name = names.find(o->keyword);
    if (name != names.end() && o->val) ::setenv(name->second, o->val, 1);
  }
  PQconninfoFree(options);
}

TEST(AppStop, ASigtermWhileAnotherReplicaHoldsTheMigrationLockEndsTheWait) {
  sales_test::TestSchema schema;
  auto other_replica = schema.pool(1);
  auto lock = other_replica->acquire();
  lock->exec_raw("SELECT pg_advisory_lock(7243101)");  // pg/migrations.cpp's key

  // App::run takes SIGTERM with sigwait. Blocked here, it is blocked in the runner from its
  // first instruction, and the signal goes to the runner alone (pthread_kill): no other
  // thread of this process, where other tests may have started some, can take it.
  sigset_t term, before;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &before), 0);
  export_database_settings(sales_test::require_env("SALES_TEST_DB_CONNINFO"));
  ::setenv("SALES_ENV_FILE", "/dev/null", 1);
  ::setenv("PORT", "0", 1);
  ::setenv("LOG_LEVEL", "warn", 1);
  ::setenv("DB_POOL_SIZE", "1", 1);

  App app({.name = "stop-probe", .default_port = 0, .default_threads = 1});
  // Never applied: the lock is held until the App has stopped.
  const std::string create = "CREATE TABLE stop_probe_" + sales_test::unique_suffix() + " (x int)";
  app.set_migrations({{1, "1_stop_probe", create}});
  std::atomic<bool> database_ready{false};
  app.on_database_ready([&database_ready] { database_ready = true; });
  std::atomic<int> exit_code{-1};
  std::thread runner([&] { exit_code = app.run(); });

  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  // Until the App's migration asks for the lock (its sessions are application_name=sales).
  auto watcher = schema.pool(1);
  auto polls = [&] {
    return watcher->acquire()->exec_raw("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sales' "
                                        "AND datname = current_database() AND query LIKE '%pg_try_advisory_lock%'")
               .int64(0, 0) > 0;
  };
  for (auto until = Clock::now() + 10s; !polls() && Clock::now() < until;) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(polls()) << "the App never asked for the migration lock (its stop is still checked)";
  EXPECT_EQ(exit_code.load(), -1) << "App::run ended by itself";
  ::pthread_kill(runner.native_handle(), SIGTERM);
  const auto asked = Clock::now();
  while (exit_code.load() == -1 && Clock::now() - asked < 5s) std::this_thread::sleep_for(10ms);
  if (exit_code.load() == -1) {
    // Letting go of the lock would let it migrate into the shared test database's schema.
    std::fprintf(stderr, "App::run still waits for the migration lock 5 s after SIGTERM\n");
    std::_Exit(1);
  }
  runner.join();
  EXPECT_EQ(exit_code.load(), 0);
  EXPECT_FALSE(database_ready.load()) << "the database was reported ready without its migrations";
  EXPECT_EQ(app.db().idle(), 0u) << "connections were opened for a start that never came";
}

}  // namespace
}  // namespace sales::service

// Integration tests of sales::pg::migrate() against the real PostgreSQL of ./sales up,
// each in a schema of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>

#include "pg_fixture.hpp"
#include "sales/pg/migrations.hpp"

namespace sales_test::pg {
namespace {

using spg::Migration;

class PgMigrate : public PgFixture {
 protected:
  std::vector<std::string> applied_versions() {
    auto r = sql("SELECT version || ':' || name FROM schema_migrations ORDER BY version");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  }
  std::vector<std::string> log() {
    auto r = sql("SELECT what FROM log ORDER BY seq");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  }
};

// Given out of order on purpose: migrate() sorts by version.
const std::vector<Migration> kThree = {
    {3, "0003_three", "INSERT INTO log (what) VALUES ('three')"},
    {1, "0001_log", "CREATE TABLE log (seq bigserial PRIMARY KEY, what text NOT NULL)"},
    {2, "0002_two", "ALTER TABLE log ADD COLUMN extra text; INSERT INTO log (what) VALUES ('two')"},
};

TEST_F(PgMigrate, AppliesPendingMigrationsInVersionOrderOnce) {
  auto pool = make_pool(2);
  EXPECT_EQ(spg::migrate(*pool, kThree), 3);
  EXPECT_EQ(applied_versions(), (std::vector<std::string>{"1:0001_log", "2:0002_two", "3:0003_three"}));
  EXPECT_EQ(log(), (std::vector<std::string>{"two", "three"}));
  // Idempotent: a second run (and a third, from another pool) applies nothing.
  EXPECT_EQ(spg::migrate(*pool, kThree), 0);
  EXPECT_EQ(spg::migrate(*make_pool(1), kThree), 0);
  EXPECT_EQ(log(), (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(applied_versions().size(), 3u);
}

TEST_F(PgMigrate, AMigrationMayOutlastThePoolsStatementTimeout) {
  spg::PoolOptions opts;
  opts.conninfo = conninfo();
  opts.size = 1;
  opts.statement_timeout = std::chrono::milliseconds(200);
  spg::Pool pool(std::move(opts));
  const std::vector<Migration> slow = {{1, "0001_slow", "CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(0.5)"}};
  EXPECT_EQ(spg::migrate(pool, slow), 1);
  EXPECT_EQ(count("slow"), 1);
}

TEST_F(PgMigrate, AppliesOnlyTheNewOnes) {
  auto pool = make_pool(1);
  std::vector<Migration> first(kThree.begin() + 1, kThree.end());  // 1 and 2
  EXPECT_EQ(spg::migrate(*pool, first), 2);
  EXPECT_EQ(log(), (std::vector<std::string>{"two"}));
  auto all = kThree;
  all.push_back({4, "0004_four", "INSERT INTO log (what) VALUES ('four')"});
  EXPECT_EQ(spg::migrate(*pool, all), 2);
  EXPECT_EQ(log(), (std::vector<std::string>{"two", "three", "four"}));
  EXPECT_EQ(applied_versions().back(), "4:0004_four");
}

// A number a removed migration had (recorded here) given to a new one: it would be skipped
// for good, so migrate() refuses, names both, and applies nothing after it.
TEST_F(PgMigrate, ANumberReusedAfterItsMigrationWasRemovedFailsLoudly) {
  auto pool = make_pool(1);
  EXPECT_EQ(spg::migrate(*pool, kThree), 3);
  auto reused = kThree;
  reused[0] = {3, "0003_something_else", "INSERT INTO log (what) VALUES ('else')"};
  reused.push_back({0, "0000_zero", "INSERT INTO log (what) VALUES ('zero')"});  // before it: not applied either
  reused.push_back({4, "0004_four", "INSERT INTO log (what) VALUES ('four')"});
  try {
    spg::migrate(*pool, reused);
    ADD_FAILURE() << "a reused number was accepted";
  } catch (const spg::MigrationNumberReused& e) {
    EXPECT_NE(std::string(e.what()).find("0003_something_else"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0003_three"), std::string::npos) << e.what();
  }
  EXPECT_EQ(log(), (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(applied_versions().back(), "3:0003_three");
}

TEST_F(PgMigrate, EmptyListCreatesTheBookkeepingOnly) {
  auto pool = make_pool(1);
  EXPECT_EQ(spg::migrate(*pool, {}), 0);
  EXPECT_EQ(count("schema_migrations"), 0);
}

TEST_F(PgMigrate, AFailingMigrationThrowsAndIsNotRecorded) {
  auto pool = make_pool(1);
  std::vector<Migration> broken = {
      {1, "0001_log", "CREATE TABLE log (seq bigserial PRIMARY KEY, what text NOT NULL)"},
      {2, "0002_broken", "INSERT INTO no_such_table VALUES (1)"},
      {3, "0003_after", "INSERT INTO log (what) VALUES ('after')"},
  };
  EXPECT_THROW(spg::migrate(*pool, broken), spg::Error);
  // Nothing of the failed migration, nor of those after it, is recorded as applied.
  auto has_table = sql("SELECT to_regclass('schema_migrations') IS NOT NULL").str(0, 0) == "t";
  if (has_table) {
    auto versions = applied_versions();
    for (const auto& v : versions) {
      EXPECT_NE(v, "2:0002_broken");
      EXPECT_NE(v, "3:0003_after");
    }
  }
  // Once fixed, the next run applies what is missing, and only that.
  broken[1].sql = "INSERT INTO log (what) VALUES ('fixed')";
  EXPECT_GE(spg::migrate(*pool, broken), 2);
  EXPECT_EQ(applied_versions(), (std::vector<std::string>{"1:0001_log", "2:0002_broken", "3:0003_after"}));
  EXPECT_EQ(log(), (std::vector<std::string>{"fixed", "after"}));
}

// An index built CONCURRENTLY, as an outside-a-transaction migration must be written.
std::string concurrent_unique_index() {
  return std::string(spg::kOutsideTransaction) + "\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS log_what ON log (what)";
}

TEST_F(PgMigrate, AMigrationOutsideATransactionRunsBetweenTheOthersInOrder) {
  auto pool = make_pool(1);
  const std::string index = concurrent_unique_index();
  std::vector<Migration> list = kThree;
  list.push_back({4, "0004_index", index});
  list.push_back({5, "0005_five", "INSERT INTO log (what) VALUES ('five')"});
  EXPECT_EQ(spg::migrate(*pool, list), 5);
  EXPECT_EQ(applied_versions().size(), 5u);
  EXPECT_EQ(log(), (std::vector<std::string>{"two", "three", "five"}));
  EXPECT_EQ(sql("SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('log_what') AND indisvalid").int64(0, 0),
            1);
  EXPECT_THROW(sql("INSERT INTO log (what) VALUES ('five')"), spg::Error) << "the unique index holds";
  EXPECT_EQ(spg::migrate(*pool, list), 0);
}

TEST_F(PgMigrate, AFailedConcurrentBuildLeavesNoInvalidIndexAndRunsAgainOnceFixed) {
  auto pool = make_pool(1);
  const std::string index = concurrent_unique_index();
  std::vector<Migration> list = {
      {1, "0001_log", "CREATE TABLE log (seq bigserial PRIMARY KEY, what text NOT NULL)"},
      {2, "0002_dup", "INSERT INTO log (what) VALUES ('dup'), ('dup')"},
      {3, "0003_index", index},
  };
  const std::string invalid = "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                              "WHERE c.relname = 'log_what' AND NOT i.indisvalid";
  EXPECT_THROW(spg::migrate(*pool, list), spg::Error) << "duplicates: the unique build fails";
  EXPECT_EQ(applied_versions(), (std::vector<std::string>{"1:0001_log", "2:0002_dup"}))
      << "the migrations before it committed";
  EXPECT_EQ(sql(invalid).int64(0, 0), 0) << "the failed build's invalid index is dropped";
  // A build cut short outside the runner (a process killed mid-build leaves the same).
  EXPECT_THROW(sql("CREATE UNIQUE INDEX CONCURRENTLY log_what ON log (what)"), spg::Error);
  ASSERT_EQ(sql(invalid).int64(0, 0), 1) << "the setup left an invalid index, as a crash would";
  sql("DELETE FROM log WHERE seq = (SELECT max(seq) FROM log)");
  EXPECT_EQ(spg::migrate(*pool, list), 1) << "IF NOT EXISTS would have kept the invalid index: it was dropped first";
  EXPECT_EQ(sql("SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('log_what') AND indisvalid").int64(0, 0),
            1);
}

TEST_F(PgMigrate, ConcurrentMigrateFromTwoThreadsAppliesEachMigrationOnce) {
  const std::string index = concurrent_unique_index();
  // A slow first migration widens the window in which both runners see nothing applied.
  std::vector<Migration> list = {
      {1, "0001_log", "CREATE TABLE log (seq bigserial PRIMARY KEY, what text NOT NULL); SELECT pg_sleep(0.3)"},
      {2, "0002_a", "INSERT INTO log (what) VALUES ('a')"},
      {3, "0003_b", "INSERT INTO log (what) VALUES ('b')"},
      // A concurrent build waits for every older snapshot: a runner that waited for the lock
      // inside a statement would deadlock with it.
      {4, "0004_index", index},
  };
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round > 0) sql("DROP TABLE log; DROP TABLE schema_migrations");
    auto pool_a = make_pool(1);
    auto pool_b = make_pool(1);
    std::barrier start(2);
    int applied_a = -1, applied_b = -1;
    std::string error_a, error_b;
    auto run = [&](spg::Pool& pool, int& applied, std::string& error) {
      start.arrive_and_wait();
      try {
        applied = spg::migrate(pool, list);
      } catch (const std::exception& e) {
        error = e.what();
      }
    };
    std::thread a([&] { run(*pool_a, applied_a, error_a); });
    std::thread b([&] { run(*pool_b, applied_b, error_b); });
    a.join();
    b.join();
    EXPECT_EQ(error_a, "");
    EXPECT_EQ(error_b, "");
    EXPECT_EQ(applied_a + applied_b, 4) << "a=" << applied_a << " b=" << applied_b;
    EXPECT_EQ(log(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(applied_versions().size(), 4u);
  }
}

// A replica told to stop (SIGTERM) while another migrates stops waiting for the lock at
// once: an orchestrator's grace period must not run out behind someone else's migration.
// (App passes its stop flag; that it then exits was checked by hand: a SIGTERMed product
// service waiting for the lock exited 1.4 s later.)
TEST_F(PgMigrate, WaitingForTheLockEndsWhenTheProcessStops) {
  sql("SELECT pg_advisory_lock(7243101)");  // another replica, migrating
  auto pool = make_pool(1);
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::string error;
  int applied = -1;
  std::thread runner([&] {
    try {
      applied = spg::migrate(*pool, kThree, &stop);
    } catch (const spg::MigrationStopped& e) {
      error = e.what();
    } catch (const std::exception& e) {
      error = std::string("unexpected: ") + e.what();
    }
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done) << "it waits while the lock is held";
  stop = true;
  auto asked = std::chrono::steady_clock::now();
  while (!done && std::chrono::steady_clock::now() - asked < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(done) << "still waiting 5 s after it was told to stop";
  sql("SELECT pg_advisory_unlock(7243101)");  // first: a runner that ignored `stop` ends (and fails below)
  runner.join();
  EXPECT_EQ(applied, -1);
  EXPECT_NE(error.find("migration lock"), std::string::npos) << error;
  EXPECT_EQ(sql("SELECT to_regclass('log') IS NULL").str(0, 0), "t") << "nothing applied";
}

}  // namespace
}  // namespace sales_test::pg

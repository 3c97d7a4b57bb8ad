// Integration tests of sales::pg's Pool, Result and errors against the real PostgreSQL of
// ./sales up, each in a schema of its own (transactions: transaction_test.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <set>
#include <climits>
#include <thread>
#include <vector>

#include "items_fixture.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// --- Result ---------------------------------------------------------------------------------

TEST_F(PgPool, ResultAccessorsReadRowsNullsAndIntegers) {
  auto pool = make_pool();
  EXPECT_EQ(spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{1}), spg::param("one"), spg::param(std::nullopt)}).affected(), 1);
  EXPECT_EQ(spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{2}), spg::param(""), spg::param("note")}).affected(), 1);
  EXPECT_EQ(spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{INT64_MIN}), spg::param("min"), spg::param("x")}).affected(), 1);
  EXPECT_EQ(spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{INT64_MAX}), spg::param("max"), spg::param("y")}).affected(), 1);

  auto r = spg::exec(*pool, kSelectItems);
  ASSERT_EQ(r.rows(), 4);
  EXPECT_FALSE(r.empty());
  EXPECT_EQ(r.int64(0, 0), INT64_MIN);
  EXPECT_EQ(r.int64(3, 0), INT64_MAX);
  EXPECT_EQ(r.int64(1, 0), 1);
  EXPECT_EQ(r.text(1, 1), "one");
  EXPECT_EQ(r.str(1, 1), "one");
  EXPECT_TRUE(r.is_null(1, 2));
  EXPECT_EQ(r.opt_str(1, 2), std::nullopt);
  // The empty string is a value, not NULL.
  EXPECT_FALSE(r.is_null(2, 1));
  EXPECT_EQ(r.opt_str(2, 1), std::optional<std::string>(""));
  EXPECT_EQ(r.opt_str(2, 2), std::optional<std::string>("note"));
  // int64 refuses what is not an integer.
  EXPECT_THROW((void)r.int64(1, 1), spg::Error);

  EXPECT_EQ(spg::exec(*pool, kRenameAll).affected(), 4);
  EXPECT_EQ(spg::exec(*pool, kDeleteItem, {spg::param(std::int64_t{2})}).affected(), 1);
  EXPECT_EQ(spg::exec(*pool, kDeleteItem, {spg::param(std::int64_t{2})}).affected(), 0);
  auto none = spg::exec(*pool, kSelectNone);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.rows(), 0);
  EXPECT_EQ(none.affected(), 0);
  EXPECT_EQ(spg::exec(*pool, kSelectItems).str(1, 1), "one!");
}

TEST_F(PgPool, ResultMovesOwnership) {
  auto pool = make_pool();
  spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param("b")});
  auto r = spg::exec(*pool, kSelectItems);
  spg::Result moved(std::move(r));
  EXPECT_EQ(moved.rows(), 1);
  EXPECT_EQ(r.rows(), 0);  // NOLINT(bugprone-use-after-move): a moved-from Result is empty
  auto other = spg::exec(*pool, kSelectNone);
  other = std::move(moved);
  EXPECT_EQ(other.rows(), 1);
  EXPECT_EQ(other.str(0, 1), "a");
}

TEST_F(PgPool, ParametersArePassedLiterallyAndNulloptIsNull) {
  auto pool = make_pool();
  for (std::string v : {std::string("plain"), std::string("'; DROP TABLE items; --"), std::string("back\\slash \"q\""),
                        std::string("\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80 e\xCC\x81"), std::string("$1 %s %_"),
                        std::string(10000, 'x'), std::string("")}) {
    auto r = spg::exec(*pool, kEcho, {spg::param(v)});
    EXPECT_EQ(r.str(0, 0), v);
    EXPECT_EQ(r.str(0, 1), "f");
  }
  for (spg::Param p : {spg::param(std::nullopt), spg::param(std::optional<std::string>{}),
                       spg::param(std::optional<std::int64_t>{})}) {
    auto r = spg::exec(*pool, kEcho, {p});
    EXPECT_TRUE(r.is_null(0, 0));
    EXPECT_EQ(r.str(0, 1), "t");
  }
  EXPECT_EQ(spg::exec(*pool, kEcho, {spg::param(std::optional<std::int64_t>{42})}).str(0, 0), "42");
  EXPECT_EQ(spg::exec(*pool, kEcho, {spg::param(std::int64_t{-7})}).str(0, 0), "-7");
  EXPECT_EQ(count("items"), 0) << "the injection attempt was a value, and the table is still there";
}

// --- errors ---------------------------------------------------------------------------------

TEST_F(PgPool, UniqueViolationIsMappedFromTheSqlstate) {
  auto pool = make_pool(1);
  spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
  try {
    spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{1}), spg::param("b"), spg::param(std::nullopt)});
    FAIL() << "a duplicate key was accepted";
  } catch (const spg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_TRUE(e.unique_violation());
    EXPECT_FALSE(e.serialization_failure());
    EXPECT_FALSE(e.connection_lost());
  }
  // The connection survives a failed statement and goes back to the pool.
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(spg::exec(*pool, kCountItems).int64(0, 0), 1);
}

TEST_F(PgPool, OtherErrorsCarryTheirSqlstate) {
  auto pool = make_pool(1);
  constexpr spg::Statement kBadSyntax{"pgt_bad_syntax", "SELEC 1"};
  constexpr spg::Statement kNoTable{"pgt_no_table", "SELECT * FROM no_such_table"};
  constexpr spg::Statement kDivZero{"pgt_div_zero", "SELECT 1 / $1::int"};
  auto state_of = [&](const spg::Statement& st, std::vector<spg::Param> params = {}) -> std::string {
    try {
      spg::exec(*pool, st, params);
    } catch (const spg::Error& e) {
      EXPECT_FALSE(e.unique_violation());
      EXPECT_FALSE(e.connection_lost()) << e.what();
      return e.sqlstate();
    }
    return "no error";
  };
  EXPECT_EQ(state_of(kBadSyntax), "42601");
  EXPECT_EQ(state_of(kNoTable), "42P01");
  EXPECT_EQ(state_of(kDivZero, {spg::param(std::int64_t{0})}), "22012");
  // A statement that failed to prepare can be prepared later, once it is valid.
  sql("CREATE TABLE no_such_table (x int)");
  EXPECT_EQ(state_of(kNoTable), "no error");
}

TEST_F(PgPool, StatementTimeoutCancelsSlowStatements) {
  spg::PoolOptions o;
  o.conninfo = conninfo();
  o.size = 1;
  o.statement_timeout = 200ms;
  spg::Pool pool(o);
  constexpr spg::Statement kSleepFive{"pgt_sleep", "SELECT pg_sleep(5)"};
  auto start = Clock::now();
  try {
    spg::exec(pool, kSleepFive);
    FAIL() << "pg_sleep(5) was not cancelled";
  } catch (const spg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "57014") << e.what();
  }
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_EQ(spg::exec(pool, kCountItems).int64(0, 0), 0) << "the connection is usable afterwards";
}

// --- the pool ---------------------------------------------------------------------------

std::int64_t backend_pid(spg::Lease& lease) { return lease->exec(kBackendPid, {}).int64(0, 0); }

TEST_F(PgPool, ConnectsLazilyAndReusesIdleConnections) {
  auto pool = make_pool(3);
  EXPECT_EQ(pool->size(), 3u);
  EXPECT_EQ(pool->idle(), 0u);
  EXPECT_EQ(pool->in_use(), 0u);
  std::int64_t pid = 0;
  {
    auto lease = pool->acquire();
    EXPECT_EQ(pool->in_use(), 1u);
    pid = backend_pid(lease);
  }
  EXPECT_EQ(pool->in_use(), 0u);
  EXPECT_EQ(pool->idle(), 1u);
  auto again = pool->acquire();
  EXPECT_EQ(backend_pid(again), pid) << "the idle connection is reused, not a new one opened";
}

TEST_F(PgPool, AcquireThrowsUnavailableAfterTheTimeoutWhenAllLeasesAreHeld) {
  auto pool = make_pool(2, 300ms);
  auto a = pool->acquire();
  auto b = pool->acquire();
  EXPECT_NE(backend_pid(a), backend_pid(b));
  EXPECT_EQ(pool->in_use(), 2u);
  auto start = Clock::now();
  EXPECT_THROW(pool->acquire(), spg::Unavailable);
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, 280ms) << "acquire must wait for acquire_timeout before giving up";
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(pool->in_use(), 2u);
}

TEST_F(PgPool, AcquireBlocksUntilALeaseIsReturned) {
  auto pool = make_pool(1, 5000ms);
  auto held = std::make_unique<spg::Lease>(pool->acquire());
  auto pid = backend_pid(*held);
  std::thread releaser([&] {
    std::this_thread::sleep_for(300ms);
    held.reset();
  });
  auto start = Clock::now();
  auto lease = pool->acquire();
  auto waited = Clock::now() - start;
  releaser.join();
  EXPECT_GE(waited, 250ms) << "acquire returned while the only connection was leased";
  EXPECT_LT(waited, 4s);
  EXPECT_EQ(backend_pid(lease), pid);
}

TEST_F(PgPool, NeverOpensMoreConnectionsThanItsSize) {
  constexpr std::size_t kSize = 3;
  auto pool = make_pool(kSize, 10000ms);
  constexpr spg::Statement kOurSessions{
      "pgt_our_sessions",
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()"};
  constexpr spg::Statement kNap{"pgt_nap", "SELECT pg_sleep(0.01)"};
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> worst{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i) {
    workers.emplace_back([&] {
      for (int j = 0; j < 15; ++j) {
        auto lease = pool->acquire();
        lease->exec(kNap, {});
      }
    });
  }
  std::thread watcher([&] {
    spg::Connection c(conninfo());
    while (!stop) {
      // The watcher itself carries the application_name too, hence "pid <> own".
      auto n = c.exec(kOurSessions, {spg::param(schema_->name())}).int64(0, 0) - 1;  // minus the fixture's admin
      worst = std::max<std::int64_t>(worst, n);
      std::this_thread::sleep_for(5ms);
    }
  });
  for (auto& w : workers) w.join();
  stop = true;
  watcher.join();
  EXPECT_GE(worst.load(), 1) << "the watcher never saw the pool's sessions";
  EXPECT_LE(worst.load(), static_cast<std::int64_t>(kSize));
  EXPECT_LE(pool->idle(), kSize);
  EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(PgPool, ConnectionLeftInsideATransactionIsNotReused) {
  auto pool = make_pool(1);
  std::int64_t pid = 0;
  {
    auto lease = pool->acquire();
    pid = backend_pid(lease);
    lease->exec_raw("BEGIN");
    lease->exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
  }
  EXPECT_EQ(pool->idle(), 0u) << "a connection inside a transaction went back to the pool";
  EXPECT_EQ(pool->in_use(), 0u);
  auto lease = pool->acquire();
  EXPECT_NE(backend_pid(lease), pid);
  EXPECT_EQ(lease->exec(kCountItems, {}).int64(0, 0), 0) << "the open transaction was never committed";
}

TEST_F(PgPool, BrokenConnectionIsNotReturnedToThePool) {
  auto pool = make_pool(1);
  std::int64_t pid = 0;
  {
    auto lease = pool->acquire();
    pid = backend_pid(lease);
    // Kill the session from outside, as a PostgreSQL restart or a network cut would.
    sql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    std::this_thread::sleep_for(100ms);
    try {
      lease->exec(kCountItems, {});
      ADD_FAILURE() << "a query on a terminated session succeeded";
    } catch (const spg::Error& e) {
      EXPECT_FALSE(lease->healthy()) << "sqlstate " << e.sqlstate() << ": " << e.what();
    }
  }
  EXPECT_EQ(pool->idle(), 0u) << "the broken connection went back to the pool";
  EXPECT_EQ(pool->in_use(), 0u) << "the broken connection still counts against the pool's size";
  auto lease = pool->acquire();
  EXPECT_NE(backend_pid(lease), pid);
  EXPECT_EQ(lease->exec(kCountItems, {}).int64(0, 0), 0);
}

TEST_F(PgPool, LostConnectionIsReportedAsConnectionLost) {
  // Callers tell "the database went away" (retry, 503) from a bad statement (a bug, 500) by
  // Error::connection_lost() or Unavailable. A session the server terminated is the former.
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  auto pid = backend_pid(lease);
  sql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  std::this_thread::sleep_for(100ms);
  try {
    lease->exec(kCountItems, {});
    FAIL() << "a query on a terminated session succeeded";
  } catch (const spg::Unavailable&) {
    SUCCEED();
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.connection_lost()) << "sqlstate '" << e.sqlstate() << "': " << e.what();
  }
}

// The server's reasons for ending a session are lost connections too; a statement's own
// failure, a cancel or "the server is starting" are not.
TEST(PgError, SessionEndingStatesAreLostConnections) {
  for (const char* state : {"08000", "08006", "57P01", "57P02", "57P05"}) {
    EXPECT_TRUE(spg::Error("x", state).connection_lost()) << state;
  }
  for (const char* state : {"57014", "57P03", "25P02", "23505", "40001", ""}) {
    EXPECT_FALSE(spg::Error("x", state).connection_lost()) << state;
  }
}

TEST_F(PgPool, FailedConnectsDoNotUseUpThePool) {
  spg::PoolOptions o;
  o.conninfo = schema_->database_conninfo() + " password=wrong-password connect_timeout=2";
  o.size = 1;
  o.acquire_timeout = 5000ms;
  spg::Pool pool(o);
  for (int i = 0; i < 3; ++i) {
    auto start = Clock::now();
    EXPECT_THROW(pool.acquire(), spg::Unavailable);
    EXPECT_LT(Clock::now() - start, 2500ms) << "attempt " << i << " waited for a slot a failed connect leaked";
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

}  // namespace
}  // namespace sales_test::pg

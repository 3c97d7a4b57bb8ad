// run_once against the real PostgreSQL: a deadlock rolls the work back and runs it again,
// so neither request fails and each takes effect once.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "sales/service/idempotency.hpp"
#include "sales_test/test_db.hpp"

namespace sales::service {
namespace {

constexpr pg::Migration kTwoRows{
    1, "0001_two_rows", "CREATE TABLE two_rows (id int PRIMARY KEY, n int NOT NULL); INSERT INTO two_rows VALUES (1, 0), (2, 0);"};
constexpr pg::Statement kLockRow{"test_run_once_lock_row", "SELECT n FROM two_rows WHERE id = $1 FOR UPDATE"};
constexpr pg::Statement kBump{"test_run_once_bump", "UPDATE two_rows SET n = n + 1 WHERE id = $1"};
constexpr pg::Statement kSum{"test_run_once_sum", "SELECT sum(n)::bigint FROM two_rows"};

class RunOnceTest : public sales_test::DbTest {
 protected:
  RunOnceTest() : DbTest(4, {kTwoRows}, with_idempotency_migrations({})) {}
};

TEST_F(RunOnceTest, ADeadlockRunsTheWorkAgainAndEachRequestTakesEffectOnce) {
  std::latch both_hold_a_row(2);
  std::atomic<int> runs{0};
  // Locks `first`, waits (on its first run) until the other request holds its own first
  // row, then locks `second`: the two wait for each other, and PostgreSQL ends one.
  auto request = [&](int first, int second) {
    bool waited = false;
    try {
      return run_once(*pool_, "test", std::nullopt, {}, [&](pg::Transaction& tx) {
        ++runs;
        tx.exec(kLockRow, {pg::param(first)});
        if (!waited) {
          waited = true;
          both_hold_a_row.arrive_and_wait();
        }
        tx.exec(kLockRow, {pg::param(second)});
        tx.exec(kBump, {pg::param(first)});
        return http::Response::json(200, "{}");
      }).status;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the request failed: " << e.what();
      return 0;
    }
  };
  int a = 0, b = 0;
  std::thread one([&] { a = request(1, 2); });
  std::thread two([&] { b = request(2, 1); });
  one.join();
  two.join();
  EXPECT_EQ(a, 200);
  EXPECT_EQ(b, 200);
  EXPECT_EQ(runs.load(), 3) << "the request PostgreSQL chose ran again";
  EXPECT_EQ(pg::exec(*pool_, kSum).int64(0, 0), 2) << "each took effect once";
}

}  // namespace
}  // namespace sales::service

// A statement still running at the request's deadline (resilience::DeadlineScope) is
// cancelled, against the real PostgreSQL of ./sales up: it fails as pg::DeadlineExceeded,
// its transaction commits nothing, and the connection serves the next statement. Without a
// deadline, or once a statement has ended, nothing is cancelled; nor is a trip that may
// commit, since a COMMIT waiting for a synchronous standby cannot be undone.
#include <gtest/gtest.h>

#include <libpq-fe.h>
#include <signal.h>

#include <thread>

#include "../../src/pg/cancel_at_deadline.hpp"
#include "pg_fixture.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace res = sales::resilience;

constexpr spg::Statement kInsert{"test_insert", "INSERT INTO marks(x) VALUES ($1::int)"};
constexpr spg::Statement kSlowInsert{"test_slow_insert",
                                     "WITH pause AS (SELECT pg_sleep($1::float8)) INSERT INTO marks(x) SELECT 1 FROM pause"};

class PgStatementDeadline : public PgFixture {};

TEST_F(PgStatementDeadline, AStatementStillRunningAtTheDeadlineIsCancelled) {
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  const auto start = Clock::now();
  {
    res::DeadlineScope scope(start + 300ms);
    EXPECT_THROW(lease->exec(kSleep, {spg::param("5")}), spg::DeadlineExceeded);
  }
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 280ms) << "cancelled before the deadline";
  EXPECT_LT(took, 3s) << "the statement ran on past the deadline";
  EXPECT_TRUE(lease->healthy());
  EXPECT_EQ(lease->exec_raw("SELECT 1").int64(0, 0), 1) << "the connection serves the next statement";
}

TEST_F(PgStatementDeadline, ACancelledPipelineCommitsNothing) {
  sql("CREATE TABLE marks (x int)");
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  {
    res::DeadlineScope scope(Clock::now() + 300ms);
    std::vector<spg::Step> steps;
    steps.push_back({nullptr, "BEGIN", {}});
    steps.push_back({&kInsert, {}, {spg::param(std::int64_t{1})}});
    steps.push_back({&kSleep, {}, {spg::param("5")}});
    EXPECT_THROW(lease->exec_pipeline(steps), spg::DeadlineExceeded);
  }
  EXPECT_EQ(PQtransactionStatus(lease->native()), PQTRANS_INERROR) << "the cancel failed the transaction";
  lease->exec_raw("ROLLBACK");  // what a transaction does after a failed statement
  EXPECT_EQ(count("marks"), 0);
  EXPECT_EQ(lease->exec_raw("SELECT 2").int64(0, 0), 2);
}

// Cancelled while it waited for a synchronous standby, a COMMIT would report success with
// the transaction on the primary alone. A trip that holds one runs to its end (bounded by
// statement_timeout), and so does a write outside a transaction, which commits itself.
TEST_F(PgStatementDeadline, ATripThatCommitsIsNotCancelledAtTheDeadline) {
  sql("CREATE TABLE marks (x int)");
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  const auto start = Clock::now();
  {
    res::DeadlineScope scope(start + 150ms);
    std::vector<spg::Step> steps;
    steps.push_back({nullptr, "BEGIN", {}});
    steps.push_back({&kInsert, {}, {spg::param(std::int64_t{1})}});
    steps.push_back({&kSleep, {}, {spg::param("0.5")}});
    steps.push_back({nullptr, "COMMIT", {}});
    EXPECT_NO_THROW(lease->exec_pipeline(steps));
  }
  {
    res::DeadlineScope scope(Clock::now() + 150ms);
    EXPECT_NO_THROW(lease->exec(kSlowInsert, {spg::param("0.5")})) << "a write outside a transaction";
  }
  {
    // A pipeline without BEGIN is one implicit transaction, committed at its end.
    res::DeadlineScope scope(Clock::now() + 150ms);
    std::vector<spg::Step> steps;
    steps.push_back({&kInsert, {}, {spg::param(std::int64_t{3})}});
    steps.push_back({&kSleep, {}, {spg::param("0.5")}});
    EXPECT_NO_THROW(lease->exec_pipeline(steps)) << "an implicit transaction that writes";
  }
  {
    res::DeadlineScope scope(Clock::now() + 150ms);
    std::vector<spg::Step> steps;
    steps.push_back({&kSleep, {}, {spg::param("5")}});
    EXPECT_THROW(lease->exec_pipeline(steps), spg::DeadlineExceeded) << "one that only reads is cancelled";
  }
  EXPECT_GE(Clock::now() - start, 1400ms);
  EXPECT_EQ(count("marks"), 3);
  EXPECT_TRUE(lease->healthy());
}

// A backend that cannot act on a cancel (stopped here; stuck in I/O in life) keeps its
// statement, and the cancel is sent again until it ends: 50 ms after the first, then twice
// as long each time up to 1 s, not every 50 ms (each send is a connection the server forks
// a process for). Over the 2 s it stays stopped: about 6 sends, not about 40.
TEST_F(PgStatementDeadline, ACancelThatCannotEndItsStatementIsResentLessAndLessOften) {
  constexpr spg::Statement kPid{"test_backend_pid", "SELECT pg_backend_pid()"};
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  const auto pid = static_cast<pid_t>(lease->exec(kPid, {}).int64(0, 0));
  ASSERT_EQ(::kill(pid, SIGSTOP), 0) << "cannot stop the backend " << pid;
  std::thread resume([pid] {
    std::this_thread::sleep_for(2s);
    ::kill(pid, SIGCONT);
  });
  const auto before = spg::detail::cancels_sent();
  {
    res::DeadlineScope scope(Clock::now() + 100ms);
    EXPECT_THROW(lease->exec(kSleep, {spg::param("5")}), spg::DeadlineExceeded);
  }
  resume.join();
  const auto sent = spg::detail::cancels_sent() - before;
  EXPECT_GE(sent, 2u) << "the cancel was not sent again while the statement went on";
  EXPECT_LE(sent, 12u) << "resent too often while the backend was stopped";
  EXPECT_EQ(lease->exec_raw("SELECT 4").int64(0, 0), 4) << "the connection serves the next statement";
}

// Reads from one snapshot (kBeginReadOnlySnapshot … COMMIT) commit nothing: such a trip is
// cancelled at the deadline like any read, and the pool never reuses its aborted session.
TEST_F(PgStatementDeadline, AReadOnlySnapshotTripIsCancelledAtTheDeadline) {
  auto pool = make_pool(1);
  const auto start = Clock::now();
  {
    auto lease = pool->acquire();
    res::DeadlineScope scope(start + 300ms);
    std::vector<spg::Step> steps;
    steps.push_back({nullptr, spg::kBeginReadOnlySnapshot, {}});
    steps.push_back({&kSleep, {}, {spg::param("5")}});
    steps.push_back({nullptr, "COMMIT", {}});
    EXPECT_THROW(lease->exec_pipeline(steps), spg::DeadlineExceeded);
  }
  EXPECT_LT(Clock::now() - start, 3s) << "the read ran on past the deadline";
  auto next = pool->acquire();
  EXPECT_EQ(PQtransactionStatus(next->native()), PQTRANS_IDLE);
  EXPECT_EQ(next->exec_raw("SELECT 3").int64(0, 0), 3);
}

TEST_F(PgStatementDeadline, WithoutADeadlineAStatementRunsToItsEnd) {
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  EXPECT_NO_THROW(lease->exec(kSleep, {spg::param("0.3")}));
}

TEST_F(PgStatementDeadline, AStatementThatEndedInTimeLeavesNoCancelBehind) {
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  {
    res::DeadlineScope scope(Clock::now() + 150ms);
    EXPECT_NO_THROW(lease->exec(kSleep, {spg::param("0")}));
  }
  std::this_thread::sleep_for(250ms);  // the deadline passes while nothing runs
  EXPECT_NO_THROW(lease->exec(kSleep, {spg::param("0.3")})) << "a later statement was cancelled";
}

TEST_F(PgStatementDeadline, AStatementAfterTheDeadlineIsNotSent) {
  sql("CREATE TABLE marks (x int)");
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  res::DeadlineScope scope(Clock::now() - 1ms);
  EXPECT_THROW(lease->exec(kInsert, {spg::param(std::int64_t{1})}), spg::DeadlineExceeded);
  std::vector<spg::Step> steps;
  steps.push_back({&kInsert, {}, {spg::param(std::int64_t{2})}});
  EXPECT_THROW(lease->exec_pipeline(steps), spg::DeadlineExceeded);
  EXPECT_EQ(count("marks"), 0) << "a statement ran after the deadline";
  // What a handler sends once its time is up (its ROLLBACK) must run.
  EXPECT_NO_THROW(lease->exec_raw("ROLLBACK"));
  EXPECT_TRUE(lease->healthy());
}

TEST_F(PgStatementDeadline, ATransactionWhoseDeadlinePassesBetweenTripsCommitsNothing) {
  sql("CREATE TABLE marks (x int)");
  auto pool = make_pool(1);
  const auto deadline = Clock::now() + 2s;  // wide: the first insert must end before it
  {
    res::DeadlineScope scope(deadline);
    spg::Transaction tx(*pool);
    tx.exec(kInsert, {spg::param(std::int64_t{1})});
    tx.exec_later(kInsert, {spg::param(std::int64_t{2})});
    std::this_thread::sleep_until(deadline + 50ms);
    EXPECT_THROW(tx.commit(), spg::DeadlineExceeded) << "a COMMIT was sent after the deadline";
  }
  EXPECT_EQ(count("marks"), 0) << "the transaction committed after its deadline";
  // Rolled back and kept: a connection left inside its transaction would have been dropped.
  EXPECT_EQ(pool->idle(), 1u) << "the ROLLBACK did not run";
  EXPECT_EQ(pool->acquire()->exec_raw("SELECT 3").int64(0, 0), 3) << "the connection serves the next statement";
}

TEST_F(PgStatementDeadline, ManyStatementsWithDeadlinesCancelOnlyTheSlowOnes) {
  auto pool = make_pool(8);
  std::atomic<int> cancelled{0}, finished{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto lease = pool->acquire();
      res::DeadlineScope scope(Clock::now() + (i % 2 ? 200ms : 5s));
      try {
        lease->exec(kSleep, {spg::param(i % 2 ? "5" : "0.4")});
        ++finished;
      } catch (const spg::DeadlineExceeded&) {
        ++cancelled;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cancelled.load(), 4);
  EXPECT_EQ(finished.load(), 4);
}

}  // namespace
}  // namespace sales_test::pg

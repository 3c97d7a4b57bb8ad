// Integration tests of sales::pg's Transaction (commit, rollback, after-commit hooks,
// isolation) and with_retry against the real PostgreSQL of ./sales up, each in a schema of
// its own.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <set>
#include <climits>
#include <thread>
#include <vector>

#include "items_fixture.hpp"
#include "sales_test/tcp_proxy.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// --- transactions -------------------------------------------------------------------------

TEST_F(PgPool, CommittedTransactionIsVisibleToOthersOnlyAfterCommit) {
  auto pool = make_pool(2);
  {
    spg::Transaction tx(*pool);
    tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
    tx.exec(kInsertItem, {spg::param(std::int64_t{2}), spg::param("b"), spg::param(std::nullopt)});
    EXPECT_EQ(tx.exec(kCountItems).int64(0, 0), 2) << "the transaction sees its own writes";
    EXPECT_EQ(count("items"), 0) << "nobody else does before commit";
    tx.commit();
    EXPECT_EQ(count("items"), 2);
  }
  EXPECT_EQ(count("items"), 2) << "destruction after commit rolls nothing back";
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(PgPool, AfterCommitRunsOnceTheCommitLandedAndNeverAfterARollback) {
  auto pool = make_pool(2);
  int seen = -1;  // rows another connection sees when the callback runs
  {
    spg::Transaction tx(*pool);
    tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
    tx.after_commit([&] { seen = static_cast<int>(count("items")); });
    EXPECT_EQ(seen, -1);
    tx.commit();
  }
  EXPECT_EQ(seen, 1) << "the callback ran after COMMIT, with the row visible to others";
  bool ran = false;
  {
    spg::Transaction tx(*pool);
    tx.after_commit([&] { ran = true; });
  }
  EXPECT_FALSE(ran) << "a rolled-back transaction runs no callback";
}

namespace {
int once_runs = 0;
void count_once_run() { ++once_runs; }
}  // namespace

TEST_F(PgPool, AfterCommitOnceRunsAFunctionOnceHoweverOftenRegistered) {
  auto pool = make_pool(1);
  once_runs = 0;
  {
    spg::Transaction tx(*pool);
    tx.exec(kInsertItem, {spg::param(std::int64_t{2}), spg::param("b"), spg::param(std::nullopt)});
    for (int i = 0; i < 3; ++i) tx.after_commit_once(count_once_run);
    tx.commit();
  }
  EXPECT_EQ(once_runs, 1);
  {
    spg::Transaction tx(*pool);
    tx.after_commit_once(count_once_run);
  }
  EXPECT_EQ(once_runs, 1) << "a rolled-back transaction runs no callback";
}

TEST_F(PgPool, TransactionRollsBackWhenDestroyedWithoutCommit) {
  auto pool = make_pool(1);
  {
    spg::Transaction tx(*pool);
    tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
  }
  EXPECT_EQ(count("items"), 0);
  // The connection came back clean (not inside a transaction) and is reused.
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(spg::exec(*pool, kCountItems).int64(0, 0), 0);
}

TEST_F(PgPool, TransactionRollsBackWhenAnExceptionLeavesTheScope) {
  auto pool = make_pool(1);
  try {
    spg::Transaction tx(*pool);
    tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
    throw std::runtime_error("handler failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(count("items"), 0);
  EXPECT_EQ(pool->idle(), 1u);
}

TEST_F(PgPool, FailedStatementAbortsTheTransactionAndThePoolStaysUsable) {
  auto pool = make_pool(1);
  spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
  {
    spg::Transaction tx(*pool);
    tx.exec(kInsertItem, {spg::param(std::int64_t{2}), spg::param("b"), spg::param(std::nullopt)});
    EXPECT_THROW(tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("dup"), spg::param(std::nullopt)}),
                 spg::Error);
    // The transaction is aborted: further statements fail (25P02) until it ends.
    try {
      tx.exec(kCountItems);
      ADD_FAILURE() << "a statement ran in an aborted transaction";
    } catch (const spg::Error& e) {
      EXPECT_EQ(e.sqlstate(), "25P02");
    }
  }
  EXPECT_EQ(count("items"), 1) << "row 2 was rolled back with the transaction";
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(spg::exec(*pool, kCountItems).int64(0, 0), 1);
}

TEST_F(PgPool, ACommitAfterAFailedStatementWasCaughtThrowsAndRunsNoHook) {
  auto pool = make_pool(1);
  spg::exec(*pool, kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
  bool hook_ran = false;
  {
    spg::Transaction tx(*pool);
    tx.after_commit([&] { hook_ran = true; });
    tx.exec(kInsertItem, {spg::param(std::int64_t{2}), spg::param("b"), spg::param(std::nullopt)});
    try {
      tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("dup"), spg::param(std::nullopt)});
    } catch (const spg::Error& e) {
      EXPECT_TRUE(e.unique_violation()) << e.what();  // "already there, fine": and carries on
    }
    try {
      tx.commit();
      ADD_FAILURE() << "a COMMIT that PostgreSQL answered ROLLBACK counted as committed";
    } catch (const spg::Error& e) {
      EXPECT_EQ(e.sqlstate(), spg::Error::kInFailedTransaction) << e.what();
    }
  }
  EXPECT_FALSE(hook_ran);
  EXPECT_EQ(count("items"), 1) << "row 2 went with the transaction";
  EXPECT_EQ(spg::exec(*pool, kCountItems).int64(0, 0), 1) << "the connection is usable again";
}

// Once committed, a transaction takes nothing more: a second commit would send COMMIT outside
// a transaction (answered "COMMIT", with a warning) and run the hooks again; an exec would
// run in autocommit.
TEST_F(PgPool, ATransactionUsedAfterItsCommitThrowsAndRunsNoHookAgain) {
  auto pool = make_pool(1);
  int hooks = 0;
  spg::Transaction tx(*pool);
  tx.after_commit([&] { ++hooks; });
  tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
  tx.commit();
  EXPECT_THROW(tx.commit(), std::logic_error);
  EXPECT_THROW(tx.exec(kCountItems), std::logic_error);
  EXPECT_THROW(tx.exec_later(kInsertItem, {spg::param(std::int64_t{2}), spg::param("b"), spg::param(std::nullopt)}),
               std::logic_error);
  EXPECT_EQ(hooks, 1);
  EXPECT_EQ(count("items"), 1);
}

// The first trip found its connection dead and no new one came: what exec_later() queued is
// gone, so a caller that caught the error and commits must not hear "committed".
TEST_F(PgPool, ACommitAfterTheConnectionWasLostAndNotReplacedThrowsAndRunsNoHook) {
  sales::testing::TcpProxy proxy(TestSchema::server_host(), TestSchema::server_port());
  spg::PoolOptions opts;
  opts.conninfo = schema_->conninfo_via(proxy.port());
  opts.size = 1;
  opts.acquire_timeout = 500ms;
  opts.connect_timeout = 500ms;
  spg::Pool pool(opts);
  bool hook_ran = false;
  spg::Transaction tx(pool);
  tx.after_commit([&] { hook_ran = true; });
  tx.exec_later(kInsertItem, {spg::param(std::int64_t{7}), spg::param("lost"), spg::param(std::nullopt)});
  proxy.cut(/*refuse=*/true);
  EXPECT_THROW(tx.exec(kCountItems), spg::Error) << "the connection and its replacement both failed";
  try {
    tx.commit();
    ADD_FAILURE() << "a transaction without a connection counted as committed";
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.connection_lost()) << e.what();
  }
  EXPECT_FALSE(hook_ran);
  EXPECT_EQ(count("items"), 0);
}

// A session the server ended is a lost connection whatever code comes with it: here by its
// idle_in_transaction_session_timeout, whose FATAL carries 25P03 (not in the list of codes);
// libpq, finding the socket closed first, reports 08000 instead. Either way: lost, transient.
TEST_F(PgPool, ASessionTheServerEndedIsALostConnectionWhateverItsCode) {
  auto pool = make_pool(1);
  spg::Transaction tx(*pool);
  tx.connection().exec_raw("SET LOCAL idle_in_transaction_session_timeout = '100ms'");
  std::this_thread::sleep_for(400ms);
  try {
    tx.exec(kCountItems);
    ADD_FAILURE() << "the session outlived its idle-in-transaction timeout";
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.sqlstate() == "25P03" || e.sqlstate() == spg::Error::kNoServer) << e.sqlstate() << ": " << e.what();
    EXPECT_TRUE(e.connection_lost()) << e.sqlstate() << ": " << e.what();
    EXPECT_TRUE(e.transient());
  }
}

TEST_F(PgPool, TransactionUsesTheRequestedIsolationLevel) {
  auto pool = make_pool(1);
  auto level = [&](std::optional<spg::Isolation> iso) {
    auto tx = iso ? std::make_unique<spg::Transaction>(*pool, *iso) : std::make_unique<spg::Transaction>(*pool);
    auto s = tx->exec(kIsolation).str(0, 0);
    tx->commit();
    return s;
  };
  EXPECT_EQ(level(std::nullopt), "read committed");
  EXPECT_EQ(level(spg::Isolation::ReadCommitted), "read committed");
  EXPECT_EQ(level(spg::Isolation::RepeatableRead), "repeatable read");
  EXPECT_EQ(level(spg::Isolation::Serializable), "serializable");
}

// --- with_retry -----------------------------------------------------------------------------

std::string what(const std::exception_ptr& e) {
  if (!e) return "no error";
  try {
    std::rethrow_exception(e);
  } catch (const spg::Error& x) {
    return "sqlstate " + x.sqlstate() + ": " + x.what();
  } catch (const std::exception& x) {
    return x.what();
  }
  return "unknown";
}

TEST_F(PgPool, WithRetryRepeatsATransactionThatLostASerializationConflict) {
  // Classic write skew between two concurrent SERIALIZABLE transactions: both read the
  // count, both insert it. Only one may commit; the loser gets 40001 and with_retry must
  // run it again until it sees the winner's row. The winner (A) inserts first and takes
  // 100 ms to commit, as a transaction with a little more work to do would.
  auto pool = make_pool(2, 5000ms);
  constexpr spg::Statement kInsertCount{"pgt_insert_count", "INSERT INTO items (id, name) VALUES ($1, $2)"};
  std::atomic<int> calls{0};
  std::barrier both_read(2);
  auto worker = [&](std::int64_t id, std::string& seen, std::chrono::milliseconds before_insert,
                    std::chrono::milliseconds before_commit) {
    bool first = true;
    spg::with_retry(*pool, spg::Isolation::Serializable, [&](spg::Transaction& tx) {
      ++calls;
      auto n = tx.exec(kCountItems).int64(0, 0);
      bool was_first = first;
      if (first) {
        first = false;
        both_read.arrive_and_wait();
        std::this_thread::sleep_for(before_insert);
      }
      tx.exec(kInsertCount, {spg::param(id), spg::param(std::to_string(n))});
      if (was_first) std::this_thread::sleep_for(before_commit);
      tx.commit();
      seen = std::to_string(n);
    });
  };
  std::string seen_a, seen_b;
  std::exception_ptr error_a, error_b;
  std::thread a([&] {
    try {
      worker(1, seen_a, 0ms, 100ms);
    } catch (...) {
      error_a = std::current_exception();
    }
  });
  std::thread b([&] {
    try {
      worker(2, seen_b, 20ms, 0ms);
    } catch (...) {
      error_b = std::current_exception();
    }
  });
  a.join();
  b.join();
  EXPECT_FALSE(error_a) << "transaction A failed despite with_retry: " << what(error_a);
  EXPECT_FALSE(error_b) << "transaction B failed despite with_retry (" << calls.load()
                        << " attempts in all): " << what(error_b);
  EXPECT_GE(calls.load(), 3) << "one of the two must have been retried";
  EXPECT_EQ(count("items"), 2);
  // Serializable outcome: one saw 0 rows, the other (after its retry) saw 1.
  std::multiset<std::string> seen{seen_a, seen_b};
  EXPECT_EQ(seen, (std::multiset<std::string>{"0", "1"}));
  EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(PgPool, WithRetrySurvivesTheCommitRaceOfTwoSerializableTransactions) {
  // The same write skew with no delays, repeated: the loser's 40001 often arrives while the
  // winner is still committing. with_retry must not spend all its attempts inside that
  // window (immediate retries conflict with the same in-flight winner again).
  auto pool = make_pool(2, 5000ms);
  constexpr spg::Statement kInsertCount{"pgt_insert_count2", "INSERT INTO items (id, name) VALUES ($1, $2)"};
  constexpr int kRounds = 20;
  int failed_rounds = 0;
  std::string last_error;
  for (int round = 0; round < kRounds; ++round) {
    sql("TRUNCATE items");
    std::barrier both_read(2);
    std::exception_ptr errors[2];
    auto worker = [&](int which) {
      bool first = true;
      try {
        spg::with_retry(*pool, spg::Isolation::Serializable, [&](spg::Transaction& tx) {
          auto n = tx.exec(kCountItems).int64(0, 0);
          if (first) {
            first = false;
            both_read.arrive_and_wait();
          }
          tx.exec(kInsertCount, {spg::param(std::int64_t{which + 1}), spg::param(std::to_string(n))});
          tx.commit();
        });
      } catch (...) {
        errors[which] = std::current_exception();
      }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    if (errors[0] || errors[1]) {
      ++failed_rounds;
      last_error = what(errors[0] ? errors[0] : errors[1]);
    }
  }
  EXPECT_EQ(failed_rounds, 0) << failed_rounds << " of " << kRounds
                              << " rounds lost a transaction despite with_retry; last: " << last_error;
  EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(PgPool, WithRetryRepeatsADeadlockVictim) {
  auto pool = make_pool(2, 10000ms);
  sql("INSERT INTO items (id, name) VALUES (1, '0'), (2, '0')");
  constexpr spg::Statement kBump{"pgt_bump", "UPDATE items SET name = (name::int + 1)::text WHERE id = $1"};
  std::atomic<int> calls{0};
  std::barrier both_locked(2);
  auto worker = [&](std::int64_t first_id, std::int64_t second_id) {
    bool first = true;
    spg::with_retry(*pool, spg::Isolation::ReadCommitted, [&](spg::Transaction& tx) {
      ++calls;
      tx.exec(kBump, {spg::param(first_id)});
      if (first) {
        first = false;
        both_locked.arrive_and_wait();
      }
      tx.exec(kBump, {spg::param(second_id)});
      tx.commit();
    });
  };
  std::exception_ptr error_a, error_b;
  std::thread a([&] {
    try {
      worker(1, 2);
    } catch (...) {
      error_a = std::current_exception();
    }
  });
  std::thread b([&] {
    try {
      worker(2, 1);
    } catch (...) {
      error_b = std::current_exception();
    }
  });
  a.join();
  b.join();
  EXPECT_FALSE(error_a) << what(error_a);
  EXPECT_FALSE(error_b) << what(error_b);
  EXPECT_GE(calls.load(), 3) << "the deadlock victim was retried";
  EXPECT_EQ(sql("SELECT name FROM items WHERE id = 1").str(0, 0), "2");
  EXPECT_EQ(sql("SELECT name FROM items WHERE id = 2").str(0, 0), "2");
}

TEST_F(PgPool, WithRetryGivesUpAfterItsAttemptsAndNeverRetriesOtherErrors) {
  auto pool = make_pool(1);
  int calls = 0;
  try {
    spg::with_retry(
        *pool, spg::Isolation::Serializable,
        [&](spg::Transaction&) -> int {
          ++calls;
          throw spg::Error("could not serialize access", "40001");
        },
        3);
    ADD_FAILURE() << "with_retry swallowed the failure";
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.serialization_failure());
  }
  EXPECT_EQ(calls, 3);

  calls = 0;
  EXPECT_THROW(spg::with_retry(*pool, spg::Isolation::Serializable,
                               [&](spg::Transaction& tx) {
                                 ++calls;
                                 tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
                                 tx.exec(kInsertItem, {spg::param(std::int64_t{1}), spg::param("a"), spg::param(std::nullopt)});
                                 tx.commit();
                               }),
               spg::Error);
  EXPECT_EQ(calls, 1) << "a unique violation is not retried";
  EXPECT_EQ(count("items"), 0);

  // The value of fn is returned.
  auto n = spg::with_retry(*pool, spg::Isolation::RepeatableRead, [&](spg::Transaction& tx) {
    auto v = tx.exec(kCountItems).int64(0, 0) + 41;
    tx.commit();
    return v;
  });
  EXPECT_EQ(n, 41);
  EXPECT_EQ(pool->in_use(), 0u);
}

}  // namespace
}  // namespace sales_test::pg

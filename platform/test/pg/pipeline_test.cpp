// Integration tests of the round-trip savings in sales::pg: Connection::exec_pipeline and a
// Transaction's BEGIN sent with its first statement and exec_later() with the next one or
// the COMMIT — against the real PostgreSQL of ./sales up.
#include <gtest/gtest.h>

#include <thread>

#include "pg_fixture.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;

constexpr spg::Statement kPipeInsert{"pipe_insert", "INSERT INTO notes (id, body) VALUES ($1, $2)"};
constexpr spg::Statement kCount{"pipe_count", "SELECT count(*) FROM notes"};
constexpr spg::Statement kInTransaction{"pipe_in_tx", "SELECT now() = statement_timestamp()"};
constexpr spg::Statement kPipePid{"pipe_pid", "SELECT pg_backend_pid()"};

spg::Step insert(std::int64_t id, std::string body) {
  return {&kPipeInsert, {}, {spg::param(id), spg::param(body)}};
}

class PgPipeline : public PgFixture {
 protected:
  void SetUp() override {
    PgFixture::SetUp();
    sql("CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL)");
  }
};

TEST_F(PgPipeline, RunsTheStepsInOrderAndReturnsTheLastResult) {
  spg::Connection c(conninfo());
  // kPipeInsert is prepared inside the pipeline, once although it appears twice.
  auto r = c.exec_pipeline({{nullptr, "BEGIN", {}}, insert(1, "a"), insert(2, "b"), {&kCount, {}, {}}});
  ASSERT_EQ(r.size(), 4u) << "a result per step";
  EXPECT_EQ(r[1].affected(), 1);
  EXPECT_EQ(r[3].int64(0, 0), 2) << "the last step sees the earlier ones";
  EXPECT_EQ(count("notes"), 0) << "still inside the transaction BEGIN opened";
  c.exec_pipeline({insert(3, "c"), {nullptr, "COMMIT", {}}});
  EXPECT_EQ(count("notes"), 3);
  EXPECT_EQ(c.exec(kPipeInsert, {spg::param(std::int64_t{4}), spg::param("d")}).affected(), 1)
      << "the connection is an ordinary one again, with the statement prepared";
}

TEST_F(PgPipeline, ThrowsTheFirstErrorSkipsTheRestAndStaysUsable) {
  spg::Connection c(conninfo());
  c.exec_raw("BEGIN");
  try {
    c.exec_pipeline({insert(1, "a"), insert(1, "duplicate"), {&kCount, {}, {}}});
    FAIL() << "a duplicate key passed";
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.unique_violation()) << e.sqlstate() << ": " << e.what();
    EXPECT_EQ(e.constraint(), "notes_pkey") << "the server names the key: a caller can tell whose it is";
    EXPECT_EQ(c.failed_step(), 1u);
  }
  c.exec_raw("ROLLBACK");
  EXPECT_TRUE(c.healthy());
  EXPECT_EQ(c.exec(kCount, {}).int64(0, 0), 0);
  EXPECT_THROW(c.exec_pipeline({{nullptr, "SELECT no_such_column FROM notes", {}}, {&kCount, {}, {}}}), spg::Error);
  EXPECT_EQ(c.exec(kCount, {}).int64(0, 0), 0);
}

TEST_F(PgPipeline, ExecLaterRunsInsideTheTransactionBeforeTheNextStatement) {
  auto pool = make_pool(1);
  spg::Transaction tx(*pool);
  tx.exec_later(kPipeInsert, {spg::param(std::int64_t{1}), spg::param("a")});
  tx.exec_later(kPipeInsert, {spg::param(std::int64_t{2}), spg::param("b")});
  EXPECT_EQ(count("notes"), 0) << "nothing was sent yet";
  EXPECT_EQ(tx.exec(kCount).int64(0, 0), 2);
  EXPECT_EQ(tx.exec(kInTransaction).str(0, 0), "f") << "BEGIN went first: now() is the transaction's start";
  tx.exec_later(kPipeInsert, {spg::param(std::int64_t{3}), spg::param("c")});
  bool ran = false;
  tx.after_commit([&] { ran = true; });
  tx.commit();
  EXPECT_TRUE(ran);
  EXPECT_EQ(count("notes"), 3) << "the last one went with the COMMIT";
}

TEST_F(PgPipeline, AFailingLaterStatementFailsTheCommitAndNothingLands) {
  auto pool = make_pool(1);
  spg::exec(*pool, kPipeInsert, {spg::param(std::int64_t{1}), spg::param("first")});
  bool ran = false;
  try {
    spg::Transaction tx(*pool);
    tx.exec(kPipeInsert, {spg::param(std::int64_t{2}), spg::param("b")});
    tx.exec_later(kPipeInsert, {spg::param(std::int64_t{1}), spg::param("duplicate")});
    tx.after_commit([&] { ran = true; });
    tx.commit();
    FAIL() << "the commit of a failed statement passed";
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.unique_violation()) << e.sqlstate() << ": " << e.what();
  }
  EXPECT_FALSE(ran) << "no after-commit hook without a commit";
  EXPECT_EQ(count("notes"), 1) << "row 2 was rolled back";
  EXPECT_EQ(pool->idle(), 1u) << "the connection was rolled back and reused";
  EXPECT_EQ(spg::exec(*pool, kCount).int64(0, 0), 1);
}

TEST_F(PgPipeline, AFailingLaterStatementIsThrownByTheNextExec) {
  auto pool = make_pool(1);
  spg::exec(*pool, kPipeInsert, {spg::param(std::int64_t{1}), spg::param("first")});
  spg::Transaction tx(*pool);
  tx.exec_later(kPipeInsert, {spg::param(std::int64_t{1}), spg::param("duplicate")});
  EXPECT_THROW(tx.exec(kCount), spg::Error);
  EXPECT_TRUE(tx.earlier_statement_failed()) << "the queued insert failed, not the count";
}

TEST_F(PgPipeline, AnExecsOwnFailureIsNotBlamedOnTheQueuedStatements) {
  auto pool = make_pool(1);
  spg::exec(*pool, kPipeInsert, {spg::param(std::int64_t{1}), spg::param("first")});
  spg::Transaction tx(*pool);
  tx.exec_later(kPipeInsert, {spg::param(std::int64_t{2}), spg::param("fine")});
  EXPECT_THROW(tx.exec(kPipeInsert, {spg::param(std::int64_t{1}), spg::param("duplicate")}), spg::Error);
  EXPECT_FALSE(tx.earlier_statement_failed());
}

TEST_F(PgPipeline, ATransactionWithoutStatementsSendsNothing) {
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  auto pid = lease->exec(kPipePid, {}).int64(0, 0);
  lease.reset();
  {
    spg::Transaction empty(*pool);
    empty.commit();
  }
  { spg::Transaction unused(*pool); }
  // Had anything been sent, the session would show it as its last query.
  auto last = sql("SELECT query FROM pg_stat_activity WHERE pid = " + std::to_string(pid));
  ASSERT_EQ(last.rows(), 1);
  EXPECT_EQ(last.str(0, 0), "SELECT pg_backend_pid()");
}

TEST_F(PgPipeline, TheFirstStatementMovesToAFreshConnectionWhenTheIdleOneDied) {
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  auto pid = lease->exec(kPipePid, {}).int64(0, 0);
  lease.reset();
  sql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  std::this_thread::sleep_for(100ms);
  spg::Transaction tx(*pool);
  tx.exec_later(kPipeInsert, {spg::param(std::int64_t{1}), spg::param("a")});
  EXPECT_NE(tx.exec(kPipePid).int64(0, 0), pid);
  tx.commit();
  EXPECT_EQ(count("notes"), 1);
}

}  // namespace
}  // namespace sales_test::pg

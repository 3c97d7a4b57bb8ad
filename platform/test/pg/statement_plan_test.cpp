// Integration tests of pg::Plan against the real PostgreSQL of ./sales up: a Plan::per_call
// statement is never prepared on the connection (so the server plans each call for its own
// values and cannot settle on one generic plan), alone and inside a pipeline, while a
// Plan::cached one is prepared once and its calls counted by the server.
#include <gtest/gtest.h>

#include "pg_fixture.hpp"

namespace sales_test::pg {
namespace {

#define NOTES_FILTER "($1::text IS NULL OR kind = $1)"
constexpr spg::Statement kPerCall{"plan_count_per_call", "SELECT count(*) FROM notes WHERE " NOTES_FILTER,
                                  spg::Plan::per_call};
constexpr spg::Statement kCached{"plan_count_cached", "SELECT count(*) FROM notes WHERE " NOTES_FILTER};
#undef NOTES_FILTER
constexpr spg::Statement kPerCallBroken{"plan_broken_per_call", "SELECT no_such_column FROM notes WHERE id = $1",
                                        spg::Plan::per_call};
// How the server holds a statement on this session: -1 when it is not prepared, else the
// plans it made for its calls (generic + custom).
constexpr spg::Statement kPlansOf{"plan_plans_of",
                                  "SELECT COALESCE((SELECT generic_plans + custom_plans FROM pg_prepared_statements "
                                  "WHERE name = $1), -1)"};

class PgStatementPlan : public PgFixture {
 protected:
  void SetUp() override {
    PgFixture::SetUp();
    sql("CREATE TABLE notes (id bigint PRIMARY KEY, kind text NOT NULL)");
    sql("INSERT INTO notes SELECT i, CASE WHEN i % 100 = 0 THEN 'rare' ELSE 'common' END "
        "FROM generate_series(1, 1000) i");
  }

  static std::int64_t plans_of(spg::Connection& c, const spg::Statement& st) {
    return c.exec(kPlansOf, {spg::param(std::string(st.name))}).int64(0, 0);
  }
};

TEST_F(PgStatementPlan, PerCallIsNeverPreparedAndAnswersEachCallsValues) {
  spg::Connection c(conninfo());
  for (int round = 0; round < 8; ++round) {  // past the five calls after which a cached plan may go generic
    EXPECT_EQ(c.exec(kPerCall, {std::nullopt}).int64(0, 0), 1000);
    EXPECT_EQ(c.exec(kPerCall, {spg::param("rare")}).int64(0, 0), 10);
    EXPECT_EQ(c.exec(kCached, {spg::param("rare")}).int64(0, 0), 10);
  }
  EXPECT_EQ(plans_of(c, kPerCall), -1) << "a per-call statement leaves nothing prepared on the session";
  EXPECT_EQ(plans_of(c, kCached), 8) << "a cached one is prepared once, and the server plans its calls";
}

TEST_F(PgStatementPlan, PerCallTravelsInAPipelineBesideCachedStatements) {
  spg::Connection c(conninfo());
  auto r = c.exec_pipeline({{nullptr, "BEGIN", {}},
                            {&kPerCall, {}, {spg::param("common")}},
                            {&kCached, {}, {std::nullopt}},
                            {&kPerCall, {}, {spg::param("rare")}},
                            {nullptr, "COMMIT", {}}});
  ASSERT_EQ(r.size(), 5u) << "a result per step";
  EXPECT_EQ(r[1].int64(0, 0), 990);
  EXPECT_EQ(r[2].int64(0, 0), 1000);
  EXPECT_EQ(r[3].int64(0, 0), 10);
  EXPECT_EQ(plans_of(c, kPerCall), -1);
  EXPECT_EQ(plans_of(c, kCached), 1);
}

TEST_F(PgStatementPlan, PerCallFailureNamesTheStatementAndLeavesTheConnectionUsable) {
  spg::Connection c(conninfo());
  try {
    c.exec(kPerCallBroken, {spg::param(std::int64_t{1})});
    FAIL() << "an unknown column passed";
  } catch (const spg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "42703") << e.what();
    EXPECT_NE(std::string(e.what()).find("plan_broken_per_call"), std::string::npos) << e.what();
  }
  try {
    c.exec_pipeline({{&kCached, {}, {std::nullopt}}, {&kPerCallBroken, {}, {spg::param(std::int64_t{1})}}});
    FAIL() << "an unknown column passed in a pipeline";
  } catch (const spg::Error& e) {
    EXPECT_EQ(c.failed_step(), 1u) << e.what();
  }
  EXPECT_TRUE(c.healthy());
  EXPECT_EQ(c.exec(kPerCall, {spg::param("rare")}).int64(0, 0), 10);
}

}  // namespace
}  // namespace sales_test::pg

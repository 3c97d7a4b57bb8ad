// Integration tests of Pool::open_at_start against the real PostgreSQL of ./sales up: the
// connections a service opens before it says it is ready.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "pg_fixture.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;

constexpr spg::Statement kStartBackendPid{"pgt_start_backend_pid", "SELECT pg_backend_pid()"};

class PgPoolOpenAtStart : public PgFixture {
 protected:
  spg::PoolOptions options(std::size_t size, std::size_t open_at_start) {
    spg::PoolOptions o;
    o.conninfo = conninfo();
    o.size = size;
    o.open_at_start = open_at_start;
    return o;
  }

  // The sessions of this test's schema (its application_name) that the server has open.
  std::int64_t server_sessions() {
    return sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + schema_->name() +
               "' AND pid <> pg_backend_pid()")
        .int64(0, 0);
  }
};

TEST_F(PgPoolOpenAtStart, OpensTheConnectionsBeforeAnyoneAsksAndLendsThem) {
  spg::Pool pool(options(4, 3));
  EXPECT_EQ(pool.open_at_start(), 3u);
  EXPECT_EQ(pool.open(), 3u);
  EXPECT_EQ(pool.idle(), 3u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(server_sessions(), 3);

  std::vector<spg::Lease> leases;
  std::set<std::int64_t> pids;
  for (int i = 0; i < 3; ++i) {
    leases.push_back(pool.acquire());
    pids.insert(leases.back()->exec(kStartBackendPid, {}).int64(0, 0));
  }
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_EQ(server_sessions(), 3) << "the three leases took the connections opened at start";
  leases.push_back(pool.acquire());
  EXPECT_EQ(server_sessions(), 4) << "past them the pool connects when asked, up to its size";
}

TEST_F(PgPoolOpenAtStart, OpensNothingMoreWhenCalledAgainOrWhenConnectionsAreOpen) {
  spg::Pool pool(options(3, 2));
  auto held = pool.acquire();
  EXPECT_EQ(pool.open_at_start(), 1u) << "one was open (leased) already";
  EXPECT_EQ(pool.open_at_start(), 0u);
  EXPECT_EQ(server_sessions(), 2);
}

TEST_F(PgPoolOpenAtStart, NeverOpensMoreThanThePoolsSize) {
  spg::Pool pool(options(2, 10));
  EXPECT_EQ(pool.open_at_start(), 2u);
  EXPECT_EQ(server_sessions(), 2);
}

TEST_F(PgPoolOpenAtStart, NothingToOpenByDefault) {
  spg::Pool pool(options(4, 0));
  EXPECT_EQ(pool.open_at_start(), 0u);
  EXPECT_EQ(server_sessions(), 0);
}

// With one place only: had the failed connect kept it, acquire would wait for it and time
// out (kTooManyConnections) instead of connecting again (and failing the same way, 08001).
TEST_F(PgPoolOpenAtStart, AFailedConnectThrowsAndGivesItsPlaceBack) {
  auto o = options(1, 1);
  o.conninfo += " password=wrong-password connect_timeout=2";
  o.acquire_timeout = 3000ms;
  spg::Pool pool(o);
  EXPECT_THROW(pool.open_at_start(), spg::Unavailable);
  EXPECT_EQ(pool.open(), 0u);
  try {
    pool.acquire();
    ADD_FAILURE() << "a wrong password connected";
  } catch (const spg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "08001") << e.what();
  }
}

}  // namespace
}  // namespace sales_test::pg

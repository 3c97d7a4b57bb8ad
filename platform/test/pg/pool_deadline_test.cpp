// Pool::acquire under a request deadline (resilience::DeadlineScope), against the real
// PostgreSQL of ./sales up: the wait ends at the deadline when that comes before the pool's
// own timeout, as pg::DeadlineExceeded (still a pg::Unavailable); without a deadline, or
// with a later one, the pool behaves as before.
#include <gtest/gtest.h>

#include "pg_fixture.hpp"
#include "sales_test/sockets.hpp"
#include "sales/http/client.hpp"
#include "sales/http/server.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace res = sales::resilience;
namespace http = sales::http;

class PgPoolDeadline : public PgFixture {};

TEST_F(PgPoolDeadline, TheWaitForAConnectionEndsAtTheRequestsDeadline) {
  auto pool = make_pool(1, 5000ms);
  auto held = pool->acquire();
  auto start = Clock::now();
  res::DeadlineScope scope(start + 200ms);
  EXPECT_THROW(pool->acquire(), spg::DeadlineExceeded);
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, 190ms) << "acquire gave up before the deadline";
  EXPECT_LT(waited, 2s) << "acquire waited for its own timeout, not the request's deadline";
}

TEST_F(PgPoolDeadline, ADeadlineCutIsStillAnUnavailablePool) {
  auto pool = make_pool(1, 5000ms);
  auto held = pool->acquire();
  res::DeadlineScope scope(Clock::now() + 50ms);
  EXPECT_THROW(pool->acquire(), spg::Unavailable);
}

TEST_F(PgPoolDeadline, ASpentDeadlineTakesNoConnectionEvenAnIdleOne) {
  auto pool = make_pool(2, 5000ms);
  { auto warm = pool->acquire(); }
  ASSERT_EQ(pool->idle(), 1u);
  res::DeadlineScope scope(Clock::now() - 1ms);
  auto start = Clock::now();
  EXPECT_THROW(pool->acquire(), spg::DeadlineExceeded);
  EXPECT_LT(Clock::now() - start, 100ms);
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(pool->in_use(), 0u);
}

TEST_F(PgPoolDeadline, ADeadlineLaterThanThePoolTimeoutLeavesThePlainTimeout) {
  auto pool = make_pool(1, 200ms);
  auto held = pool->acquire();
  res::DeadlineScope scope(Clock::now() + 10s);
  auto start = Clock::now();
  try {
    (void)pool->acquire();
    ADD_FAILURE() << "acquire returned a second connection from a pool of one";
  } catch (const spg::DeadlineExceeded&) {
    ADD_FAILURE() << "the pool's own timeout came first, yet it reported the deadline";
  } catch (const spg::Unavailable&) {
  }
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST_F(PgPoolDeadline, ALiveDeadlineWithAFreeConnectionRunsAsBefore) {
  auto pool = make_pool(1, 5000ms);
  res::DeadlineScope scope(Clock::now() + 5s);
  auto lease = pool->acquire();
  EXPECT_EQ(lease->exec_raw("SELECT 1").int64(0, 0), 1);
}

// Through a real server: the client gets a 504 problem when the pool wait is cut by the
// budget, and the 503 of a pool timeout when there is no budget; never a 500.
TEST_F(PgPoolDeadline, AServerAnswers504WhenTheBudgetEndsThePoolWait) {
  auto pool = make_pool(1, 1000ms);
  auto held = pool->acquire();
  http::ServerOptions opts;
  opts.threads = 2;
  http::Server server(opts, [&](http::Request&) {
    auto lease = pool->acquire();
    return http::Response::json(200, "{}");
  });
  server.start();
  http::Client client({.base_url = "http://127.0.0.1:" + std::to_string(server.port())});

  auto start = Clock::now();
  auto cut = client.get("/", [] {
    http::Headers h;
    h.set("X-Request-Budget-Ms", "200");
    return h;
  }());
  auto waited = Clock::now() - start;
  EXPECT_EQ(cut.status, 504) << cut.body;
  EXPECT_EQ(cut.headers.get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_LT(waited, 800ms) << "the handler waited for the pool's own timeout";

  auto plain = client.get("/");
  EXPECT_EQ(plain.status, 503) << plain.body;
  server.stop();
}

// A server that takes the connection and never answers (a host that hangs, a proxy in
// front of a dead one): a request's connect ends at its deadline, another's at the pool's
// connect_timeout, not at libpq's whole seconds (at least 2).
TEST(PgPoolConnect, AConnectToAServerThatNeverAnswersEndsInTime) {
  const int silent = sales_test::bound_socket();
  ASSERT_EQ(::listen(silent, 16), 0);  // the kernel completes the handshake; nobody answers
  spg::PoolOptions o;
  o.conninfo = "host=127.0.0.1 port=" + std::to_string(sales_test::port_of(silent)) +
               " dbname=x user=x password=x connect_timeout=10 gssencmode=disable sslmode=disable";
  o.size = 2;
  o.connect_timeout = 600ms;
  spg::Pool pool(o);

  auto start = Clock::now();
  {
    res::DeadlineScope scope(start + 200ms);
    EXPECT_THROW(pool.acquire(), spg::DeadlineExceeded);
  }
  EXPECT_LT(Clock::now() - start, 1500ms) << "waited past the request's deadline";

  start = Clock::now();
  try {
    (void)pool.acquire();
    ADD_FAILURE() << "connected to a server that never answered";
  } catch (const spg::DeadlineExceeded&) {
    ADD_FAILURE() << "no request deadline was set";
  } catch (const spg::Unavailable&) {
  }
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 1500ms) << "waited past the pool's connect_timeout";
  EXPECT_EQ(pool.open(), 0u) << "the failed connects gave their slots back";
  ::close(silent);
}

}  // namespace
}  // namespace sales_test::pg

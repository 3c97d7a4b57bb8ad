// What a client sees when a service's pooled database connection died (a PostgreSQL restart,
// a failover, a network cut): the platform's server must answer 503 (with Retry-After, so
// the gateway's retry can take over), never a 500, and the next request must work again on
// a fresh connection.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pg_fixture.hpp"
#include "sales/http/client.hpp"
#include "sales/http/server.hpp"

namespace sales_test::pg {
namespace {

using namespace std::chrono_literals;
namespace http = sales::http;

constexpr spg::Statement kPid{"pgt_lost_pid", "SELECT pg_backend_pid()"};

class PgLostConnection : public PgFixture {};

// The server ended an idle pooled connection: its reason and the close wait on the socket,
// so the pool drops it when it is next asked for one instead of handing out a connection
// whose first statement fails; the other idle connections are kept.
TEST_F(PgLostConnection, AnIdleConnectionTheServerEndedIsReplacedBeforeUse) {
  auto pool = make_pool(2);
  std::string first, second;
  {
    auto a = pool->acquire();
    auto b = pool->acquire();
    first = a->exec(kPid, {}).str(0, 0);
    second = b->exec(kPid, {}).str(0, 0);
  }
  ASSERT_EQ(pool->idle(), 2u);
  sql("SELECT pg_terminate_backend(" + first + ")");  // released last: the one handed out next
  std::this_thread::sleep_for(100ms);

  std::string now;
  EXPECT_NO_THROW(now = spg::exec(*pool, kPid).str(0, 0)) << "a dead connection was handed out";
  EXPECT_EQ(now, second) << "the live idle connection was used";
  EXPECT_EQ(pool->open(), 1u) << "the dead one was dropped, the live one kept";
}

// A connection lost while a handler's statement runs (a restart, a failover, a network cut)
// is a temporary unavailability: 503 with Retry-After, never a 500; the next request works
// on a fresh connection.
TEST_F(PgLostConnection, AHandlerOnALostConnectionAnswers503ThenRecovers) {
  auto pool = make_pool(1);
  http::ServerOptions opts;
  opts.port = 0;
  opts.threads = 1;
  std::atomic<int> pid{0};
  http::Server server(opts, [&](http::Request& req) {
    auto lease = pool->acquire();
    pid = static_cast<int>(lease->exec(kPid, {}).int64(0, 0));
    if (req.target == "/slow") (void)lease->exec(kSleep, {spg::param("5")});
    return http::Response::json(200, "{\"pid\":" + std::to_string(pid.load()) + "}");
  });
  server.start();
  http::Client client({.base_url = "http://127.0.0.1:" + std::to_string(server.port())});
  ASSERT_EQ(client.get("/").status, 200);

  std::thread killer([&] {
    std::this_thread::sleep_for(300ms);
    sql("SELECT pg_terminate_backend(" + std::to_string(pid.load()) + ")");
  });
  auto during = client.get("/slow");
  killer.join();
  EXPECT_EQ(during.status, 503) << "a lost database connection is a temporary unavailability, not an internal error: "
                                << during.body;
  EXPECT_TRUE(during.headers.get("Retry-After").has_value());
  EXPECT_EQ(std::string(during.headers.get("Content-Type").value_or("")), "application/problem+json");

  const int lost = pid.load();
  auto after = client.get("/");
  EXPECT_EQ(after.status, 200) << "the pool did not replace the dead connection: " << after.body;
  EXPECT_NE(pid.load(), lost) << "still the terminated session";
  server.stop();
}

// A session the server ends while a statement runs on it (pg_terminate_backend here; a fast
// shutdown or a restart alike) is a lost connection, so a consumer takes its careful path
// (the COMMIT may or may not have landed) rather than blaming the event's handler. libpq
// reports it here as 08000 (the close); when it hands over the server's own reason first
// (57P01), Error::connection_lost() says the same.
TEST_F(PgLostConnection, AStatementWhoseSessionTheServerEndedIsALostConnection) {
  auto pool = make_pool(1);
  auto lease = pool->acquire();
  const std::string pid = lease->exec(kPid, {}).str(0, 0);
  std::thread killer([&] {
    std::this_thread::sleep_for(300ms);
    sql("SELECT pg_terminate_backend(" + pid + ")");
  });
  try {
    (void)lease->exec(kSleep, {spg::param("5")});
    ADD_FAILURE() << "the statement outlived its session";
  } catch (const spg::Error& e) {
    EXPECT_TRUE(e.connection_lost()) << e.sqlstate() << ": " << e.what();
  }
  killer.join();
  EXPECT_FALSE(lease->healthy()) << "the pool must not keep it";
}

}  // namespace
}  // namespace sales_test::pg

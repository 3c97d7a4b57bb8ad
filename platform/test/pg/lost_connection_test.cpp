// What a client sees when a service's pooled database connection died (a PostgreSQL restart,
// a failover, a network cut): the platform's server must answer 503 (with Retry-After, so
// the gateway's retry can take over), never a 500, and the next request must work again on
// a fresh connection.
#include <gtest/gtest.h>

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

TEST_F(PgLostConnection, AHandlerOnALostConnectionAnswers503ThenRecovers) {
  auto pool = make_pool(1);
  std::string pid;
  {
    auto lease = pool->acquire();
    pid = lease->exec(kPid, {}).str(0, 0);
  }
  ASSERT_EQ(pool->idle(), 1u);

  http::ServerOptions opts;
  opts.port = 0;
  opts.threads = 1;
  http::Server server(opts, [&](http::Request&) {
    auto r = spg::exec(*pool, kPid);
    return http::Response::json(200, "{\"pid\":" + r.str(0, 0) + "}");
  });
  server.start();
  http::Client client({.base_url = "http://127.0.0.1:" + std::to_string(server.port())});

  auto before = client.get("/");
  ASSERT_EQ(before.status, 200) << before.body;

  // The server side of the pooled (idle) connection goes away.
  sql("SELECT pg_terminate_backend(" + pid + ")");
  std::this_thread::sleep_for(100ms);

  auto during = client.get("/");
  EXPECT_EQ(during.status, 503) << "a lost database connection is a temporary unavailability, not an internal error: "
                                << during.body;
  EXPECT_TRUE(during.headers.get("Retry-After").has_value());
  EXPECT_EQ(std::string(during.headers.get("Content-Type").value_or("")), "application/problem+json");

  auto after = client.get("/");
  EXPECT_EQ(after.status, 200) << "the pool did not replace the dead connection: " << after.body;
  EXPECT_EQ(after.body.find(pid), std::string::npos) << "still the terminated session";
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

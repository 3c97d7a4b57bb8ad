// The REST call to the order service, against an in-process fake order service.
#include "api/order_client.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sales/problem/problem.hpp"
#include "sales/resilience/deadline.hpp"
#include "sales_test/http.hpp"
#include "sales_test/fake_service.hpp"

namespace payment {
namespace {

namespace http = sales::http;

http::Request incoming(std::string request_id) {
  http::Request r;
  r.headers.set("X-Request-Id", std::move(request_id));
  r.headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  return r;
}

int status_of(OrderClient& client, std::int64_t id) {
  try {
    client.find(id, incoming("r"));
  } catch (const sales::ProblemError& e) {
    return e.problem().status;
  }
  return 0;
}

TEST(OrderClient, ReadsStatusAndTotalAndForwardsTheTrace) {
  sales_test::FakeService fake;
  fake.reply(200, R"({"id":42,"customer_id":1,"status":"CONFIRMED","items":[],"total":19.99})");
  OrderClient client({.base_url = fake.url()});
  auto order = client.find(42, incoming("req-abc"));
  ASSERT_TRUE(order);
  EXPECT_EQ(order->id, 42);
  EXPECT_EQ(order->status, "CONFIRMED");
  EXPECT_EQ(order->total_cents, 1999);
  auto seen = fake.last();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/orders/42");
  EXPECT_EQ(seen.request_id(), "req-abc");
  EXPECT_EQ(seen.headers.get("traceparent"), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(OrderClient, AWholeNumberTotalIsMoneyToo) {
  sales_test::FakeService fake;
  fake.reply(200, R"({"status":"PENDING","total":20})");
  OrderClient client({.base_url = fake.url()});
  EXPECT_EQ(client.find(1, incoming("r"))->total_cents, 2000);
}

TEST(OrderClient, UnknownOrderIsNoOrder) {
  sales_test::FakeService fake;
  fake.reply(404, R"({"status":404,"title":"Not Found"})");
  OrderClient client({.base_url = fake.url()});
  EXPECT_FALSE(client.find(7, incoming("r")));
}

TEST(OrderClient, FailuresOfTheOrderServiceAre503) {
  sales_test::FakeService fake;
  OrderClient client({.base_url = fake.url()});
  for (int status : {500, 502, 503, 400, 401}) {
    fake.reply(status, "{}");
    EXPECT_EQ(status_of(client, 7), 503) << status;
  }
  EXPECT_EQ(sales_test::problem_of([&] { client.find(7, incoming("r")); }).headers.get(sales::kDependencyUnavailableHeader), "order")
      << "named, so that the gateway does not count it against the payment service";
}

TEST(OrderClient, UnreachableOrderServiceIs503) {
  std::string url;
  {
    sales_test::FakeService gone;
    url = gone.url();
  }
  OrderClient client({.base_url = url, .timeout = std::chrono::milliseconds(500)});
  EXPECT_EQ(status_of(client, 7), 503);
}

TEST(OrderClient, ASlowOrderServiceIs503AfterTheTimeout) {
  sales_test::FakeService fake;
  fake.reply(200, R"({"status":"CONFIRMED","total":1})", std::chrono::milliseconds(600));
  OrderClient client({.base_url = fake.url(), .timeout = std::chrono::milliseconds(150)});
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(status_of(client, 7), 503);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
}

// After the order service restarts, every kept-alive connection is dead; a lookup must
// still succeed (on a new connection) rather than answer 503 until the pool has drained.
TEST(OrderClient, SurvivesARestartOfTheOrderService) {
  constexpr const char* kOrder = R"({"status":"CONFIRMED","total":1})";
  auto fake = std::make_unique<sales_test::FakeService>();
  auto port = fake->port();
  fake->reply(200, kOrder, std::chrono::milliseconds(50));
  OrderClient client({.base_url = fake->url()});
  {
    std::vector<std::jthread> callers;  // concurrent calls leave several idle connections
    for (int i = 0; i < 6; ++i) callers.emplace_back([&] { EXPECT_TRUE(client.find(1, incoming("r"))); });
  }
  fake.reset();
  sales_test::FakeService restarted(port);
  restarted.reply(200, kOrder);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(client, 1), 0) << "call " << i << " after the restart";
}

TEST(OrderClient, NonsenseFromTheOrderServiceIs502) {
  sales_test::FakeService fake;
  OrderClient client({.base_url = fake.url()});
  for (const char* body : {"not json", R"({"status":"CONFIRMED"})", R"({"total":1})", R"({"status":"X","total":-1})",
                           R"({"status":"X","total":1.234})", "[]"}) {
    fake.reply(200, body);
    EXPECT_EQ(status_of(client, 7), 502) << body;
  }
}

// The payment request's budget (X-Request-Budget-Ms) bounds the call: the order service
// gets what is left, and one that does not answer in it is given up at the deadline,
// without a retry (there is no time left for one), and named as out (503 with
// Sales-Dependency-Unavailable: order): the payment service did not fail, so the gateway
// must not count it against the payment service's breaker, as it counts a 504.
TEST(OrderClient, TheRequestsDeadlineBoundsTheCallAndTravelsWithIt) {
  sales_test::FakeService fake;
  fake.reply(200, R"({"id":42,"status":"CONFIRMED","total":19.99})", std::chrono::milliseconds(1000));
  OrderClient client({.base_url = fake.url(), .timeout = std::chrono::milliseconds(3000)});
  auto start = std::chrono::steady_clock::now();
  sales::resilience::DeadlineScope scope(start + std::chrono::milliseconds(150));
  try {
    client.find(42, incoming("r"));
    ADD_FAILURE() << "the order service answered after the deadline";
  } catch (const sales::ProblemError& e) {
    EXPECT_EQ(e.problem().status, 503);
    EXPECT_EQ(e.problem().headers.get("Sales-Dependency-Unavailable").value_or(""), "order");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(800));
  auto budget = std::stoll(std::string(fake.last().headers.get("X-Request-Budget-Ms").value_or("-1")));
  EXPECT_GT(budget, 0);
  EXPECT_LE(budget, 150);
}

TEST(OrderClientOptions, ReadsAndValidatesTheEnvironment) {
  using Vars = std::map<std::string, std::string>;
  sales::config::Env env(Vars{{"ORDER_SERVICE_URL", "http://10.0.0.5:9002"}, {"ORDER_SERVICE_TIMEOUT_MS", "750"}});
  auto o = order_client_options(env);
  EXPECT_EQ(o.base_url, "http://10.0.0.5:9002");
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(750));
  EXPECT_NO_THROW(env.finish());

  sales::config::Env defaults(Vars{});
  EXPECT_EQ(order_client_options(defaults).base_url, "http://127.0.0.1:8002");

  sales::config::Env bad(Vars{{"ORDER_SERVICE_URL", "https://orders"}});
  order_client_options(bad);
  EXPECT_THROW(bad.finish(), sales::config::ConfigError);
}

}  // namespace
}  // namespace payment

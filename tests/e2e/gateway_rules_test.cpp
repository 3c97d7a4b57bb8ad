// DESIGN §3, the gateway's own rules through the running system: unknown prefixes, its own
// routes, what it and every service report, and a path and query passed on unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "sales_test/env.hpp"
#include "sales_test/metrics_text.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

namespace json = boost::json;
using sales_test::unique_suffix;

TEST(Gateway, UnknownPrefixIs404Problem) {
  for (const char* target : {"/nope", "/", "/product", "/productsx", "/PRODUCTS", "/customer/1", "/gateway/nothing",
                             "/api/products", "/health/nothing"}) {
    auto r = get(target);
    EXPECT_TRUE(is_problem(r, 404)) << target;
  }
  auto post = post_json("/nope", std::string(R"({"name":"x","price":1})"));
  EXPECT_TRUE(is_problem(post, 404)) << post;
}

TEST(Gateway, UnknownPrefixAnswerCarriesTheRequestId) {
  auto id = "e2e-gw-" + unique_suffix();
  auto r = get("/no-such-service/1", {{"X-Request-Id", id}});
  EXPECT_TRUE(is_problem(r, 404));
  EXPECT_EQ(r.header("X-Request-Id"), id);
  auto generated = get("/no-such-service/2");
  EXPECT_TRUE(is_hex32(generated.header("X-Request-Id"))) << generated;
}

TEST(Gateway, WrongMethodOnTheGatewaysOwnRoutesIs405) {
  for (const char* target : {"/health", "/metrics", "/gateway/circuit-breakers"}) {
    for (const char* method : {"POST", "PUT", "DELETE"}) {
      auto r = request(method, target, "{}", "application/json");
      EXPECT_TRUE(is_problem(r, 405)) << method << " " << target;
      EXPECT_NE(r.header("Allow").find("GET"), std::string::npos) << method << " " << target << "\n" << r;
    }
  }
}

// The value of `name` (summed over the samples whose labels include `labels`) in a /metrics
// body, as a whole number; -1 when there is no such sample.
int metric_value(const std::string& body, const std::string& name, const sales_test::MetricLabels& labels = {}) {
  const auto v = sales_test::metric_sum(body, name, labels);
  return v ? static_cast<int>(*v) : -1;
}

// How many threads serve HTTP, as the gateway (its event loops) and every service export it:
// operators and the benchmark's nginx read it, whatever set HTTP_THREADS.
TEST(Gateway, TheGatewayAndEveryServiceReportTheirHttpThreads) {
  auto gateway = get("/metrics");
  ASSERT_GE(metric_value(gateway.body, "http_server_threads"), 1) << gateway.body.substr(0, 400);
  for (const char* service : {"product", "order", "customer", "payment", "inventory", "shipping"}) {
    auto r = service_request(service, "GET", "/metrics");
    ASSERT_GE(metric_value(r.body, "http_server_threads"), 1) << service;
  }
}

// Each service's database pool, as operators watch it; the gateway has none (it links no
// PostgreSQL code). When it became ready, each service had opened what DB_POOL_OPEN_AT_START
// asks (default: the whole pool, so at least one; the migrations run on a connection of their
// own, closed after them, so with DB_POOL_OPEN_AT_START=0 none would be). Idle and in use are
// read one after the other, so each is checked on its own.
TEST(Gateway, EveryServiceReportsItsDatabasePool) {
  EXPECT_EQ(get("/metrics").body.find("db_pool_"), std::string::npos) << "the gateway has no database pool";
  for (const char* service : {"product", "order", "customer", "payment", "inventory", "shipping"}) {
    auto body = service_request(service, "GET", "/metrics").body;
    int size = metric_value(body, "db_pool_size");
    int idle = metric_value(body, "db_pool_connections", {{"state", "idle"}});
    int in_use = metric_value(body, "db_pool_connections", {{"state", "in_use"}});
    int asked = metric_value(body, "db_pool_open_at_start");
    int when_ready = metric_value(body, "db_pool_open_when_ready");
    ASSERT_GE(size, 1) << service << "\n" << body.substr(0, 400);
    EXPECT_TRUE(idle >= 0 && idle <= size) << service << ": idle " << idle;
    EXPECT_TRUE(in_use >= 0 && in_use <= size) << service << ": in use " << in_use;
    ASSERT_TRUE(asked >= 0 && asked <= size) << service << ": DB_POOL_OPEN_AT_START " << asked;
    EXPECT_GE(when_ready, std::max(asked, 1)) << service;
    EXPECT_LE(when_ready, size) << service;
  }
}

// DESIGN §2: what a service knows about itself: its outbox backlog and, for each queue it
// consumes, its lag; with the relay and the consumer connected to the broker.
TEST(Gateway, EveryServiceWithEventsReportsItsOutboxBacklogAndConsumerLag) {
  for (std::string service : {"product", "order", "payment", "inventory", "shipping"}) {
    const sales_test::MetricLabels queue = {{"queue", service + "_queue"}};
    std::string body;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
      body = service_request(service, "GET", "/metrics").body;
      if (metric_value(body, "sales_outbox_relay_connected") == 1 &&
          metric_value(body, "sales_events_consumer_connected", queue) == 1) {
        break;
      }
    }
    EXPECT_EQ(metric_value(body, "sales_outbox_relay_connected"), 1) << service;
    EXPECT_EQ(metric_value(body, "sales_events_consumer_connected", queue), 1) << service;
    EXPECT_GE(metric_value(body, "sales_outbox_backlog"), 0) << service << ": no outbox backlog";
    EXPECT_GE(metric_value(body, "sales_events_consumer_lag", queue), 0) << service << ": no consumer lag";
  }
}

TEST(Gateway, HealthReportsTheUpstreams) {
  auto r = get("/health");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_TRUE(r.json.is_object()) << r;
  EXPECT_EQ(r.json.at("status"), boost::json::value("ready")) << r;
  EXPECT_EQ(r.json.at("gateway"), boost::json::value("ready")) << r;
  const auto& upstreams = r.json.at("upstreams");
  ASSERT_TRUE(upstreams.is_object()) << r;
  for (const char* service : {"product", "order", "customer", "payment", "inventory", "shipping"}) {
    const auto* state = upstreams.as_object().if_contains(service);
    ASSERT_NE(state, nullptr) << service << " is not listed: " << r;
    EXPECT_EQ(*state, boost::json::value("ready")) << service << ": " << r;
  }
}

// DESIGN §2: each service's /metrics counts its requests and times them by route and
// status. One 404 for an unknown id, sent through the gateway, is counted and timed once,
// under the route's template (not the id), by the service that answered it.
TEST(Gateway, EveryServiceCountsItsRequestsByRouteAndStatus) {
  struct Case {
    const char* service;
    const char* route;
    const char* target;
  };
  for (const Case& c : {Case{"product", "/products/{id}", "/products/999999991"},
                        Case{"order", "/orders/{id}", "/orders/999999991"},
                        Case{"customer", "/customers/{id}", "/customers/999999991"},
                        Case{"payment", "/payments/{id}", "/payments/999999991"},
                        Case{"inventory", "/inventory/stock/{product_id}", "/inventory/stock/999999991"},
                        Case{"shipping", "/shipping/{id}", "/shipping/999999991"}}) {
    const sales_test::MetricLabels labels = {
        {"service", c.service}, {"route", c.route}, {"method", "GET"}, {"status", "404"}};
    const std::string counted = "http_requests_total", timed = "http_request_duration_seconds_count";
    // Once: another 404 on the same route (a service's own call) may land between the reads,
    // so up to three tries, one of which must see exactly this request counted.
    int counted_once = 0;
    std::string after;
    for (int attempt = 0; attempt < 3 && counted_once != 1; ++attempt) {
      auto before = service_request(c.service, "GET", "/metrics").body;
      // no-cache: answered by the service, never by the gateway's response cache.
      ASSERT_TRUE(is_problem(get(c.target, {{"Cache-Control", "no-cache"}}), 404)) << c.target;
      after = service_request(c.service, "GET", "/metrics").body;
      counted_once = metric_value(after, counted, labels) - std::max(metric_value(before, counted, labels), 0);
      EXPECT_GE(metric_value(after, timed, labels), std::max(metric_value(before, timed, labels), 0) + 1)
          << timed << " of " << c.route;
    }
    EXPECT_EQ(counted_once, 1) << counted << " of " << c.route;
    EXPECT_EQ(after.find(std::string("route=\"") + c.target), std::string::npos) << "an id in a route label";
  }
}

TEST(Gateway, PathAndQueryPassUnchanged) {
  // Percent-encoded characters reach the service as sent.
  auto sfx = unique_suffix();
  auto name = "e2e-a+b&c=d/" + sfx;
  auto created = create_product(name, "1");
  auto r = get("/products?q=" + url_encode(name) + "&limit=5");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.at("total"), json::value(1)) << r;
  EXPECT_EQ(r.at("limit"), json::value(5)) << r;
  auto plus = get("/products?q=e2e-a%2Bb%26c%3Dd%2F" + sfx);
  EXPECT_EQ(plus.at("total"), json::value(1)) << plus;
}

}  // namespace
}  // namespace e2e

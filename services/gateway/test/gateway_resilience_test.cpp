// The gateway's circuit breaker, rate limiter and bulkhead, its configuration, metrics and
// request identity over real HTTP (DESIGN.md §5): the real sales-gateway binary, started per
// test with small settings, in front of fault-injecting upstreams on 127.0.0.1 (retries and
// deadlines: gateway_retry_test.cpp). Timing assertions use generous margins; waits are
// bounded polls, never bare sleeps that must be "long enough".
#include <gtest/gtest.h>

#include <latch>
#include <regex>

#include "support/harness.hpp"

namespace gateway_test {
namespace {

class GatewayResilience : public GatewayFixture {};

// Each answer is counted under what was asked: the upstream's paths (a 429 too, which the
// rate limiter gives before any upstream is asked) or the gateway's own /health.
TEST_F(GatewayResilience, AnswersAreCountedUnderTheRoutesTheyWereAskedOf) {
  start({{"GATEWAY_RATE_LIMIT_MAX", "1"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "600000"}});
  EXPECT_EQ(get(gw, "/products/1").status, 200);
  EXPECT_TRUE(is_problem(get(gw, "/products/2"), 429));
  get(gw, "/health");  // 503 here: the fake upstreams have no /health/ready; counted all the same
  auto text = metrics_text(gw);
  EXPECT_EQ(metric_sum(text, "http_requests_total", {{"route", "/products/*"}, {"status", "200"}}).value_or(-1), 1);
  EXPECT_EQ(metric_sum(text, "http_requests_total", {{"route", "/products/*"}, {"status", "429"}}).value_or(-1), 1);
  EXPECT_EQ(metric_sum(text, "http_requests_total", {{"route", "/health"}}).value_or(-1), 1);
  EXPECT_FALSE(metric_sum(text, "http_requests_total", {{"route", "unmatched"}})) << text;
}

// ------------------------------------------------------------------------ circuit breaker

TEST_F(GatewayResilience, TheBreakerOpensRefusesAtOnceAndClosesAfterSuccessfulTrials) {
  start({{"GATEWAY_RETRY_MAX", "0"},
         {"GATEWAY_CB_WINDOW", "10"},
         {"GATEWAY_CB_MIN_CALLS", "5"},
         {"GATEWAY_CB_FAILURE_RATE", "50"},
         {"GATEWAY_CB_OPEN_MS", "2000"},
         {"GATEWAY_CB_HALF_OPEN_CALLS", "2"}});
  product.fail(500);
  product.delay_ms = 600;  // so "at once" is visibly different from "asked the upstream"
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_circuit_transitions_total", {{"upstream", "product"}, {"to", "open"}})
                .value_or(-1),
            0)
      << "at 0 before the first opening, so that increase() sees it";
  for (int i = 0; i < 4; ++i) ASSERT_EQ(get(gw, "/products/1").status, 500);
  auto b = breaker(gw, "product");
  EXPECT_EQ(b.at("state").as_string(), "closed") << "4 results are fewer than the minimum of 5";
  EXPECT_EQ(b.at("window_calls").to_number<int>(), 4);
  EXPECT_EQ(b.at("window_failures").to_number<int>(), 4);

  ASSERT_EQ(get(gw, "/products/1").status, 500);
  auto opened = Clock::now();
  EXPECT_EQ(breaker_state(gw, "product"), "open");
  EXPECT_EQ(breaker_state(gw, "customer"), "closed");

  for (int i = 0; i < 3; ++i) {
    auto t0 = Clock::now();
    auto r = get(gw, "/products/1");
    // Anything that asked the upstream took its 600 ms; product.count() below shows none did.
    EXPECT_LT(since(t0), 600ms) << "refused without asking the upstream (which takes 600 ms)";
    EXPECT_TRUE(is_problem(r, 503)) << r.status << " " << r.body;
    auto retry_after = int_header(r, "Retry-After");
    ASSERT_TRUE(retry_after.has_value()) << "Retry-After missing";
    EXPECT_GE(*retry_after, 1);
    EXPECT_LE(*retry_after, 2);
  }
  EXPECT_EQ(product.count(), 5) << "nothing is sent upstream while the breaker is open";
  auto text = metrics_text(gw);
  EXPECT_EQ(metric_sum(text, "gateway_circuit_state", {{"upstream", "product"}}).value_or(-1), 1);
  EXPECT_EQ(metric_sum(text, "gateway_circuit_state", {{"upstream", "customer"}}).value_or(-1), 0);
  EXPECT_EQ(metric_sum(text, "gateway_circuit_transitions_total", {{"upstream", "product"}, {"to", "open"}}).value_or(-1), 1);
  EXPECT_EQ(metric_sum(text, "gateway_rejections_total", {{"upstream", "product"}, {"reason", "circuit_open"}}).value_or(-1), 3);

  // The upstream recovers and nobody calls it: once the open time is over the breaker is
  // shown waiting for trials, not open with no time left (an alert on the state would stay).
  product.reset();
  ASSERT_TRUE(eventually([&] { return breaker_state(gw, "product") == "half_open"; }, 5s, 100ms));
  EXPECT_GE(Clock::now() - opened, 1800ms) << "shown half open before the open time was over";
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_circuit_state", {{"upstream", "product"}}).value_or(-1), 2);
  EXPECT_EQ(breaker(gw, "product").at("retry_after_ms").to_number<int>(), 0);
  EXPECT_EQ(product.count(), 0) << "no call since the upstream recovered was needed to show it";

  // Trial calls go through and close the breaker.
  Clock::time_point first_ok{};
  ASSERT_TRUE(eventually(
      [&] {
        if (get(gw, "/products/1").status != 200) return false;
        first_ok = Clock::now();
        return true;
      },
      10s, 100ms))
      << "no request was let through within 10 s of a 2 s open time";
  EXPECT_GE(first_ok - opened, 1800ms) << "a trial call went through before the open time was over";
  ASSERT_TRUE(eventually([&] { return get(gw, "/products/1").status == 200 && breaker_state(gw, "product") == "closed"; },
                         5s, 10ms));
  b = breaker(gw, "product");
  EXPECT_EQ(b.at("transitions_to_open").to_number<int>(), 1);
  EXPECT_EQ(b.at("transitions_to_half_open").to_number<int>(), 1);
  EXPECT_EQ(b.at("transitions_to_closed").to_number<int>(), 1);
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_circuit_state", {{"upstream", "product"}}).value_or(-1), 0);
}

TEST_F(GatewayResilience, AFailedTrialCallOpensTheBreakerAgain) {
  start({{"GATEWAY_RETRY_MAX", "0"},
         {"GATEWAY_CB_WINDOW", "2"},
         {"GATEWAY_CB_MIN_CALLS", "2"},
         {"GATEWAY_CB_OPEN_MS", "500"},
         {"GATEWAY_CB_HALF_OPEN_CALLS", "1"}});
  product.fail(503);
  ASSERT_EQ(get(gw, "/products/1").status, 503);
  ASSERT_EQ(get(gw, "/products/1").status, 503);
  ASSERT_EQ(breaker_state(gw, "product"), "open");
  // After the open time the one trial call reaches the (still failing) upstream...
  ASSERT_TRUE(eventually(
      [&] {
        get(gw, "/products/1");
        return product.count() == 3;
      },
      5s, 100ms));
  // ...and its failure opens the breaker again at once.
  EXPECT_EQ(breaker_state(gw, "product"), "open");
  auto r = get(gw, "/products/1");
  EXPECT_TRUE(is_problem(r, 503)) << r.body;
  EXPECT_TRUE(int_header(r, "Retry-After").has_value());
  EXPECT_EQ(product.count(), 3);
  EXPECT_EQ(breaker_field(gw, "product", "transitions_to_open"), 2);
}

TEST_F(GatewayResilience, BreakersArePerUpstream) {
  start({{"GATEWAY_RETRY_MAX", "0"},
         {"GATEWAY_CB_WINDOW", "4"},
         {"GATEWAY_CB_MIN_CALLS", "4"},
         {"GATEWAY_CB_OPEN_MS", "60000"}});
  product.fail(500);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(get(gw, "/products/1").status, 500);
  ASSERT_EQ(breaker_state(gw, "product"), "open");
  EXPECT_TRUE(is_problem(get(gw, "/products/1"), 503));

  auto r = get(gw, "/customers/1?expand=orders");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "X-Fake-Upstream"), "customer");
  ASSERT_EQ(customer.count(), 1);
  EXPECT_EQ(customer.received()[0].target, "/customers/1?expand=orders");
  EXPECT_EQ(breaker_state(gw, "customer"), "closed");
  EXPECT_EQ(product.count(), 4);
  for (const char* name : {"order", "payment", "inventory", "shipping"}) EXPECT_EQ(breaker_state(gw, name), "closed");
}

// A service answering 503 because a service it calls is down (the order service's product
// look-up; here the fake customer service plays it) is working: its breaker stays closed, so
// its other routes keep flowing, and the answer is not retried.
TEST_F(GatewayResilience, AServiceReportingItsDependencyDownKeepsItsBreakerClosed) {
  start({{"GATEWAY_CB_WINDOW", "4"}, {"GATEWAY_CB_MIN_CALLS", "4"}, {"GATEWAY_CB_OPEN_MS", "60000"}});
  customer.fail_for_dependency("product");
  for (int i = 0; i < 8; ++i) {
    auto r = get(gw, "/customers/1");
    ASSERT_EQ(r.status, 503);
    EXPECT_EQ(header(r, "X-Fake-Upstream"), "customer") << "the service's own answer, passed on";
    EXPECT_EQ(header(r, "Sales-Dependency-Unavailable"), "product");
  }
  EXPECT_EQ(customer.count(), 8) << "a GET, retried on a 503 of its own, but not on this one";
  EXPECT_EQ(breaker_state(gw, "customer"), "closed");
  EXPECT_EQ(metric_of({{"upstream", "customer"}, {"outcome", "dependency_unavailable"}}, "gateway_upstream_attempts_total"), 8);
  // The same 503 without the name is the service's own failure: retried, and counted.
  customer.reset();
  customer.fail(503);
  for (int i = 0; i < 4 && breaker_state(gw, "customer") == "closed"; ++i) (void)get(gw, "/customers/1");
  EXPECT_EQ(breaker_state(gw, "customer"), "open");
}

// ----------------------------------------------------------------------- rate limiting

TEST_F(GatewayResilience, OverTheRateLimitA429ProblemSaysWhenToComeBack) {
  start({{"GATEWAY_RATE_LIMIT_MAX", "5"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "60000"}});
  for (int i = 0; i < 5; ++i) {
    auto r = get(gw, "/products/" + std::to_string(i + 1));
    ASSERT_EQ(r.status, 200) << "request " << i + 1;
    EXPECT_EQ(header(r, "RateLimit-Policy"), "\"default\";q=5;w=60");
    EXPECT_EQ(header(r, "RateLimit").rfind("\"default\";r=" + std::to_string(4 - i) + ";t=", 0), 0u)
        << header(r, "RateLimit");
    EXPECT_FALSE(int_header(r, "Retry-After").has_value()) << "only a refused request is told when to come back";
  }
  auto r = get(gw, "/products/6");
  EXPECT_TRUE(is_problem(r, 429)) << r.status << " " << r.body;
  auto retry_after = int_header(r, "Retry-After");
  ASSERT_TRUE(retry_after.has_value()) << "Retry-After missing";
  EXPECT_GE(*retry_after, 1);
  EXPECT_LE(*retry_after, 12) << "one token comes back every 60 s / 5";
  EXPECT_EQ(header(r, "RateLimit-Policy"), "\"default\";q=5;w=60");
  EXPECT_EQ(header(r, "RateLimit").rfind("\"default\";r=0;t=", 0), 0u) << header(r, "RateLimit");
  EXPECT_EQ(product.count(), 5) << "a limited request is not sent upstream";
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_rejections_total", {{"reason", "rate_limited"}}).value_or(-1), 1);
  // The gateway's own endpoints stay reachable for probes and operators.
  EXPECT_EQ(get(gw, "/health/live").status, 200);
  EXPECT_EQ(get(gw, "/gateway/circuit-breakers").status, 200);
}

TEST_F(GatewayResilience, TheSeedsPolicyOf100Per15MinutesIsAccepted) {
  start({{"GATEWAY_RATE_LIMIT_MAX", "100"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "900000"}});
  auto r = get(gw, "/products/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "RateLimit-Policy"), "\"default\";q=100;w=900");
  EXPECT_EQ(header(r, "RateLimit").rfind("\"default\";r=99;t=", 0), 0u) << header(r, "RateLimit");
}

// ---------------------------------------------------------------------------- bulkhead

TEST_F(GatewayResilience, AFullBulkheadAnswers503AtOnce) {
  start({{"GATEWAY_BULKHEAD_MAX", "2"}});
  product.delay_ms = 2000;
  constexpr int kClients = 4;
  std::vector<Response> results(kClients);
  std::vector<Ms> took(kClients);
  std::latch go(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      go.arrive_and_wait();
      auto t0 = Clock::now();
      try {
        results[i] = get(gw, "/products/" + std::to_string(i + 1));
      } catch (const std::exception& e) {
        results[i].status = -1;
        results[i].body = e.what();
      }
      took[i] = since(t0);
    });
  }
  for (auto& t : clients) t.join();
  int ok = 0, full = 0;
  for (int i = 0; i < kClients; ++i) {
    if (results[i].status == 200) {
      ++ok;
    } else {
      EXPECT_TRUE(is_problem(results[i], 503)) << results[i].status << " " << results[i].body;
      EXPECT_TRUE(int_header(results[i], "Retry-After").has_value());
      EXPECT_NE(problem_detail(results[i]).find("in flight"), std::string::npos) << results[i].body;
      EXPECT_LT(took[i], 1000ms) << "refused at once, not queued";
      ++full;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(full, 1) << "4 concurrent requests through a bulkhead of 2";
  EXPECT_EQ(ok + full, kClients);
  EXPECT_LE(product.max_in_flight(), 2);
  EXPECT_EQ(product.count(), ok);
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_rejections_total", {{"upstream", "product"}, {"reason", "bulkhead_full"}})
                .value_or(-1),
            full);
  EXPECT_EQ(breaker_field(gw, "product", "bulkhead_rejected"), full);
  EXPECT_EQ(breaker_field(gw, "product", "bulkhead_max"), 2);
}

// -------------------------------------------------------------------- configuration, misc

TEST_F(GatewayResilience, AnInvalidConfigurationStopsTheGatewayAtStartNamingTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"GATEWAY_CB_FAILURE_RATE", "abc"}, {"GATEWAY_TIMEOUT_MS", "0"},
      {"GATEWAY_RETRY_MAX", "11"},        {"GATEWAY_RATE_LIMIT_WINDOW_MS", "-5"},
      {"GATEWAY_BULKHEAD_MAX", "1.5"},    {"GATEWAY_MAX_BODY_BYTES", "10"},
      {"PRODUCT_SERVICE_URL", "ftp://127.0.0.1:1"}, {"GATEWAY_TRUSTED_PROXIES", "10.0.0.0/33"},
      {"GATEWAY_CORS_ALLOWED_ORIGINS", "https://shop.example/app"}, {"GATEWAY_ADMIN_SOURCES", "prometheus"},
      {"LOG_LEVEL", "loud"},  // spdlog alone would have logged nothing at all
  };
  for (const auto& [var, value] : cases) {
    SCOPED_TRACE(std::string(var) + "=" + value);
    auto env = base_env();
    env[var] = value;
    auto t0 = Clock::now();
    auto e = gateway.run_to_exit(env, 5s);
    ASSERT_TRUE(e.exited) << "still running after 5 s; output: " << e.output;
    EXPECT_LT(since(t0), 3s);
    EXPECT_NE(e.code, 0);
    EXPECT_NE(e.output.find(var), std::string::npos) << e.output;
    EXPECT_NE(e.output.find("invalid configuration"), std::string::npos) << e.output;
  }
}

TEST_F(GatewayResilience, MetricsExposeBreakersRetriesRejectionsAndLatency) {
  start();
  ASSERT_EQ(get(gw, "/products/1").status, 200);
  auto text = metrics_text(gw);
  for (const char* family : {"gateway_circuit_state", "gateway_retries_total", "gateway_rejections_total",
                             "gateway_upstream_latency_seconds", "gateway_upstream_attempts_total",
                             "gateway_retry_budget_retries", "gateway_retry_budget_allowance"}) {
    EXPECT_NE(text.find("# TYPE " + std::string(family) + " "), std::string::npos) << family;
  }
  for (const char* upstream : {"product", "order", "customer", "payment", "inventory", "shipping"}) {
    EXPECT_EQ(metric_sum(text, "gateway_circuit_state", {{"upstream", upstream}}).value_or(-1), 0) << upstream;
  }
  EXPECT_EQ(metric_sum(text, "gateway_upstream_latency_seconds_count", {{"upstream", "product"}}).value_or(-1), 1);
  for (const char* reason : {"rate_limited", "deadline", "circuit_open", "bulkhead_full"}) {
    EXPECT_TRUE(metric_sum(text, "gateway_rejections_total", {{"reason", reason}}).has_value()) << reason;
  }
  EXPECT_TRUE(metric_sum(text, "gateway_retries_total", {{"upstream", "product"}, {"result", "refused_by_budget"}}).has_value());
}

TEST_F(GatewayResilience, AnUnknownPrefixIsA404ProblemAndReachesNoUpstream) {
  start();
  for (const char* target : {"/productsx", "/productsx/1", "/nothing", "/order/1", "/", "/gateway/nope"}) {
    auto r = get(gw, target);
    EXPECT_TRUE(is_problem(r, 404)) << target << ": " << r.status << " " << r.body;
  }
  EXPECT_EQ(product.count(), 0);
  EXPECT_EQ(customer.count(), 0);
}

TEST_F(GatewayResilience, RequestIdAndTraceContextGoToTheUpstreamAndTheIdComesBack) {
  start();
  Headers h;
  const std::string id = "gw-test-" + sales_test::unique_suffix();
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  h.set("X-Request-Id", id);
  h.set("traceparent", trace);
  auto r = get(gw, "/products/1", h);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "X-Request-Id"), id);
  auto seen = product.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers.get("X-Request-Id").value_or(""), id);
  EXPECT_EQ(seen[0].headers.get("traceparent").value_or(""), trace);
  EXPECT_EQ(seen[0].headers.get("X-Forwarded-For").value_or(""), "127.0.0.1");

  // Without them, the gateway makes both; the upstream gets the id the client gets back.
  product.reset();
  auto r2 = get(gw, "/products/2");
  ASSERT_EQ(r2.status, 200);
  seen = product.received();
  ASSERT_EQ(seen.size(), 1u);
  auto made = std::string(seen[0].headers.get("X-Request-Id").value_or(""));
  EXPECT_FALSE(made.empty());
  EXPECT_EQ(header(r2, "X-Request-Id"), made);
  auto tp = std::string(seen[0].headers.get("traceparent").value_or(""));
  EXPECT_TRUE(std::regex_match(tp, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"))) << tp;
  EXPECT_EQ(tp.substr(3, 32), made) << "the generated id is the trace id";
  EXPECT_EQ(tp.substr(36, 16), made.substr(16)) << "and its second half the parent id";

  // A client's id that is not 32 hex digits is kept, and the trace gets an id of its own.
  product.reset();
  Headers own_id;
  own_id.set("X-Request-Id", id);
  ASSERT_EQ(get(gw, "/products/3", own_id).status, 200);
  seen = product.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers.get("X-Request-Id").value_or(""), id);
  tp = std::string(seen[0].headers.get("traceparent").value_or(""));
  EXPECT_TRUE(std::regex_match(tp, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"))) << tp;
  EXPECT_EQ(tp.substr(36, 16), tp.substr(19, 16));

  // An invalid traceparent is replaced (the trace starts here); so is an id that would make
  // an all-zero trace id.
  const std::string zeros(32, '0');
  const std::vector<std::string> invalid_ones = {
      "garbage", "00-" + zeros + "-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      // A later version may add fields, but not without bound: it rides on the saga's events.
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-" + std::string(500, 'a')};
  for (const std::string& bad : invalid_ones) {
    product.reset();
    Headers invalid;
    invalid.set("X-Request-Id", zeros);
    invalid.set("traceparent", bad);
    ASSERT_EQ(get(gw, "/products/4", invalid).status, 200);
    seen = product.received();
    ASSERT_EQ(seen.size(), 1u);
    tp = std::string(seen[0].headers.get("traceparent").value_or(""));
    EXPECT_TRUE(std::regex_match(tp, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"))) << bad << " -> " << tp;
    EXPECT_NE(tp.substr(3, 32), zeros) << bad << " -> " << tp;
    EXPECT_NE(tp.substr(36, 16), std::string(16, '0')) << bad << " -> " << tp;
  }
}

TEST_F(GatewayResilience, BodiesOverTheLimitAreRefusedWith413) {
  start({{"GATEWAY_MAX_BODY_BYTES", "2048"}});
  auto small = std::string(R"({"name":")") + std::string(1000, 'a') + "\"}";
  auto r = send(gw, "POST", "/products", {}, small);
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(product.count(), 1);
  EXPECT_EQ(product.received()[0].body, small);
  auto big = std::string(R"({"name":")") + std::string(4096, 'a') + "\"}";
  auto refused = send(gw, "POST", "/products", {}, big);
  EXPECT_TRUE(is_problem(refused, 413)) << refused.status << " " << refused.body;
  EXPECT_EQ(product.count(), 1);
}

}  // namespace
}  // namespace gateway_test

// GET /health: every upstream's readiness, probed at once (the answer takes the slowest
// probe's time, not the sum); other methods get 405 with Allow.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/harness.hpp"

namespace gateway_test {
namespace {

using namespace std::chrono_literals;

class GatewayHealth : public ::testing::Test {
 protected:
  FakeUpstream slow{"slow"};
  GatewayProcess gateway;  // declared last: stopped before the upstream goes away

  void start_all_on_slow() {
    EnvMap env;
    for (auto name : {"PRODUCT", "ORDER", "CUSTOMER", "PAYMENT", "INVENTORY", "SHIPPING"}) {
      env[std::string(name) + "_SERVICE_URL"] = slow.url();
    }
    gateway.start(env);
  }
};

TEST_F(GatewayHealth, TheUpstreamsAreProbedAtOnce) {
  start_all_on_slow();
  slow.delay_ms = 600;  // six probes one after another would take 3.6 s
  auto t0 = Clock::now();
  auto r = get(gateway.url(), "/health");
  auto took = since(t0);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("status":"ready")"), std::string::npos) << r.body;
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 2000ms);
}

// /health is not rate limited: requests that arrive together share one round of probes,
// so a flood of them is not multiplied onto the services' databases.
TEST_F(GatewayHealth, ConcurrentRequestsShareOneRoundOfProbes) {
  start_all_on_slow();
  slow.delay_ms = 400;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    clients.emplace_back([&] { ok += get(gateway.url(), "/health").status == 200; });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_LE(slow.count(), 12) << "at most two rounds of six probes (a request may come after the first ends)";
  slow.delay_ms = 0;
  EXPECT_EQ(get(gateway.url(), "/health").status, 200);
  EXPECT_EQ(slow.count() % 6, 0) << "each round probes all six";
}

TEST_F(GatewayHealth, AnUpstreamSlowerThanTheProbeDeadlineIsNotReady) {
  start_all_on_slow();
  slow.delay_ms = 3000;
  auto t0 = Clock::now();
  auto r = get(gateway.url(), "/health");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find(R"("product":"not ready")"), std::string::npos) << r.body;
  EXPECT_LT(since(t0), 2500ms) << "each probe has a 1 s deadline, all run at once";
}

// A name that failed to resolve less than a second ago fails again at once, so every probe
// of the second call ends before the call starts waiting for them: it must not wait out its
// 5 s bound for a signal that already came.
TEST_F(GatewayHealth, UpstreamsWhoseNamesDoNotResolveAreNotReadyWithoutWaiting) {
  EnvMap env;
  for (auto name : {"PRODUCT", "ORDER", "CUSTOMER", "PAYMENT", "INVENTORY", "SHIPPING"}) {
    env[std::string(name) + "_SERVICE_URL"] = "http://no-such-service.invalid:8001";
  }
  gateway.start(env);
  for (int call = 1; call <= 3; ++call) {
    auto t0 = Clock::now();
    auto r = get(gateway.url(), "/health");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_NE(r.body.find(R"("shipping":"not ready")"), std::string::npos) << r.body;
    EXPECT_LT(since(t0), 2500ms) << "call " << call << " waited for probes that had already ended";
  }
}

TEST_F(GatewayHealth, OtherMethodsGet405WithAllow) {
  start_all_on_slow();
  auto r = send(gateway.url(), "POST", "/health", {}, "{}");
  EXPECT_TRUE(is_problem(r, 405)) << r.status << " " << r.body;
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD, OPTIONS");
  auto options = send(gateway.url(), "OPTIONS", "/health", {}, "");
  EXPECT_EQ(options.status, 204) << options.body;
  EXPECT_EQ(header(options, "Allow"), "GET, HEAD, OPTIONS");
}

}  // namespace
}  // namespace gateway_test

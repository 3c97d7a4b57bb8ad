// GATEWAY_ADMIN_SOURCES over real HTTP: the real sales-gateway binary in front of fake
// upstreams. The test's ordinary requests come from 127.0.0.1; the operator's scraper is a
// peer of its own, 127.0.0.2 (the whole of 127/8 is the loopback's on Linux). A peer not
// listed finds no /metrics or /gateway/... at all, whatever X-Forwarded-For it sends, while
// the health endpoints and the API stay open to it.
#include <gtest/gtest.h>

#include <chrono>

#include "sales_test/raw_client.hpp"
#include "support/harness.hpp"

namespace gateway_test {
namespace {

constexpr const char* kScraper = "127.0.0.2";

class GatewayAdminSources : public GatewayFixture {
 protected:
  // GET `target` from kScraper, on a connection the gateway closes after its answer: the
  // status and the body (a plain Content-Length body: the gateway's own answers).
  std::pair<int, std::string> get_as_scraper(const std::string& target) {
    sales_test::RawClient scraper(gateway.port(), 0, kScraper);
    scraper.send("GET " + target + " HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
    auto answer = scraper.read_for(std::chrono::seconds(5));
    auto head_end = answer.find("\r\n\r\n");
    if (!answer.starts_with("HTTP/1.1 ") || head_end == std::string::npos) return {0, answer};
    return {std::stoi(answer.substr(9, 3)), answer.substr(head_end + 4)};
  }

  double admin_source_rejections() {
    auto [status, text] = get_as_scraper("/metrics");
    EXPECT_EQ(status, 200) << text;
    return metric_sum(text, "gateway_rejections_total", {{"reason", "admin_source"}}).value_or(-1);
  }

  // What an unknown path gets, but for the path it names: the answer a refusal must match.
  std::string unknown_path_body(const std::string& target) {
    auto body = get(gw, "/nothing-here").body;
    return body.replace(body.find("/nothing-here"), std::string("/nothing-here").size(), target);
  }
};

TEST_F(GatewayAdminSources, APeerNotListedFindsNoOperatorEndpointsButEverythingElse) {
  // 127.0.0.1 is trusted as a proxy, so that its X-Forwarded-For is read at all: it still
  // names a client, never the peer the list is about.
  start({{"GATEWAY_ADMIN_SOURCES", std::string("10.0.0.0/8, ") + kScraper}, {"GATEWAY_TRUSTED_PROXIES", "127.0.0.1"}});
  int refused = 0;
  for (const char* target : {"/metrics", "/gateway/circuit-breakers", "//metrics", "/gateway//circuit-breakers/",
                             "/gateway", "/metrics?name=gateway_circuit_state"}) {
    auto r = get(gw, target);
    ++refused;
    EXPECT_TRUE(is_problem(r, 404)) << target << ": " << r.status << " " << r.body;
    std::string path(target);
    EXPECT_EQ(r.body, unknown_path_body(path.substr(0, path.find('?')))) << target << ": as if it did not exist";
  }
  // Other methods too: a 405 or a 204 with Allow would tell the path exists.
  for (const char* method : {"POST", "OPTIONS", "HEAD", "DELETE"}) {
    auto r = send(gw, method, "/gateway/circuit-breakers");
    ++refused;
    EXPECT_EQ(r.status, 404) << method;
    EXPECT_EQ(header(r, "Allow"), "") << method;
  }
  Headers forged;
  forged.set("X-Forwarded-For", "10.1.2.3");
  auto r = get(gw, "/metrics", forged);
  ++refused;
  EXPECT_TRUE(is_problem(r, 404)) << "a listed address in X-Forwarded-For is not the peer: " << r.status;

  EXPECT_EQ(get(gw, "/health/live").status, 200) << "load balancers and the kubelet probe it";
  EXPECT_NE(get(gw, "/health/ready").status, 404);
  EXPECT_NE(get(gw, "/health").status, 404) << "503 here: the fake upstreams have no /health/ready";
  EXPECT_EQ(get(gw, "/products/1").status, 200) << "the API is not an operator endpoint";

  EXPECT_EQ(admin_source_rejections(), refused);
  auto [status, breakers] = get_as_scraper("/gateway/circuit-breakers");
  EXPECT_EQ(status, 200) << breakers;
  EXPECT_NE(breakers.find("\"product\""), std::string::npos) << breakers;
}

TEST_F(GatewayAdminSources, AListedPeerReadsThemAsBefore) {
  for (const char* list : {"127.0.0.1", "127.0.0.0/8", "10.0.0.0/8,127.0.0.1,::1"}) {
    SCOPED_TRACE(std::string("GATEWAY_ADMIN_SOURCES=") + list);
    start({{"GATEWAY_ADMIN_SOURCES", list}});
    auto metrics = get(gw, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metric_sum(metrics.body, "gateway_rejections_total", {{"reason", "admin_source"}}), 0.0);
    auto breakers = get(gw, "/gateway/circuit-breakers");
    EXPECT_EQ(breakers.status, 200) << breakers.body;
    EXPECT_NE(breakers.body.find("\"product\""), std::string::npos) << breakers.body;
  }
}

TEST_F(GatewayAdminSources, WithoutTheSettingAnyoneReadsThem) {
  // Empty is unset (" , ", which looks set, is refused at start: gateway_config_test).
  start({{"GATEWAY_ADMIN_SOURCES", ""}});
  auto metrics = get(gw, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metric_sum(metrics.body, "gateway_rejections_total", {{"reason", "admin_source"}}), 0.0)
      << "at 0 from the start, as every reason";
  EXPECT_EQ(get(gw, "/gateway/circuit-breakers").status, 200);
  start();  // the variable unset: today's behaviour
  EXPECT_EQ(get(gw, "/metrics").status, 200);
  EXPECT_EQ(get(gw, "/gateway/circuit-breakers").status, 200);
}

}  // namespace
}  // namespace gateway_test

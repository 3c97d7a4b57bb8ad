// The client address over real HTTP: the real sales-gateway binary, the test as the proxy
// in front of it (its connections come from 127.0.0.1), fake upstreams behind it. Behind a
// trusted proxy each client has its own rate-limit bucket; from a peer that is not trusted
// X-Forwarded-For changes nothing and is not passed on.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "sales_test/metrics_text.hpp"
#include "sales_test/raw_client.hpp"
#include "support/harness.hpp"

namespace gateway_test {
namespace {

class GatewayClientAddress : public GatewayFixture {
 protected:
  // A request as a proxy sends it for the client(s) in `forwarded_for`, one field each.
  Response via(const std::string& target, std::initializer_list<const char*> forwarded_for) {
    Headers h;
    for (const char* f : forwarded_for) h.add("X-Forwarded-For", f);
    return get(gw, target, h);
  }

  // Every X-Forwarded-For field the product service received with its last request.
  std::vector<std::string> forwarded_upstream() {
    auto seen = product.received();
    std::vector<std::string> out;
    if (seen.empty()) return out;
    for (const auto& [name, value] : seen.back().headers.fields()) {
      if (sales::http::iequals(name, "X-Forwarded-For")) out.push_back(value);
    }
    return out;
  }

  static EnvMap limited(const char* trusted) {
    return {{"GATEWAY_TRUSTED_PROXIES", trusted},
            {"GATEWAY_RATE_LIMIT_MAX", "2"},
            {"GATEWAY_RATE_LIMIT_WINDOW_MS", "600000"}};
  }
};

using Chain = std::vector<std::string>;

TEST_F(GatewayClientAddress, TwoClientsBehindOneTrustedProxyGetSeparateBuckets) {
  start(limited("10.0.0.0/8, 127.0.0.1"));
  EXPECT_EQ(via("/products/1", {"203.0.113.1"}).status, 200);
  EXPECT_EQ(forwarded_upstream(), Chain{"203.0.113.1, 127.0.0.1"}) << "the proxy is appended to the chain";
  EXPECT_EQ(via("/products/2", {"203.0.113.1"}).status, 200);
  auto refused = via("/products/3", {"203.0.113.1"});
  EXPECT_TRUE(is_problem(refused, 429)) << refused.status << " " << refused.body;
  // Entries a client puts in front of its own address change nothing.
  EXPECT_TRUE(is_problem(via("/products/4", {"198.51.100.9, 203.0.113.1"}), 429));
  EXPECT_TRUE(is_problem(via("/products/4", {"10.9.9.9", "203.0.113.1"}), 429));

  // Another client behind the same proxy has its own bucket.
  auto first = via("/products/5", {"203.0.113.2"});
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(header(first, "RateLimit").rfind("\"default\";r=1;", 0), 0u) << header(first, "RateLimit");
  // Two hops of trusted proxies and several header lines: still that client.
  auto second = via("/products/6", {"198.51.100.9, 203.0.113.2", "10.1.1.1"});
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(header(second, "RateLimit").rfind("\"default\";r=0;", 0), 0u) << header(second, "RateLimit");
  EXPECT_EQ(forwarded_upstream(), Chain{"198.51.100.9, 203.0.113.2, 10.1.1.1, 127.0.0.1"}) << "one field, in order";
  EXPECT_TRUE(is_problem(via("/products/7", {"203.0.113.2"}), 429));

  // The proxy's own requests (no header) are the proxy's.
  EXPECT_EQ(via("/products/8", {}).status, 200);
  EXPECT_EQ(forwarded_upstream(), Chain{"127.0.0.1"});
  EXPECT_EQ(product.count(), 5) << "refused requests are not sent upstream";
  EXPECT_EQ(metric_of({{"reason", "rate_limited"}}, "gateway_rejections_total"), 4);
}

TEST_F(GatewayClientAddress, AnUntrustedPeersForwardedForIsIgnoredAndNotPassedOn) {
  // Nobody trusted (the default), and a list that does not hold the peer 127.0.0.1.
  for (const char* trusted : {"", "10.0.0.0/8, ::1, 127.0.0.2"}) {
    SCOPED_TRACE(std::string("GATEWAY_TRUSTED_PROXIES=") + trusted);
    product.reset();
    start(limited(trusted));
    EXPECT_EQ(via("/products/1", {"203.0.113.1"}).status, 200);
    EXPECT_EQ(forwarded_upstream(), Chain{"127.0.0.1"}) << "the client's header is dropped";
    EXPECT_EQ(via("/products/2", {"203.0.113.2", "203.0.113.3"}).status, 200);
    EXPECT_EQ(forwarded_upstream(), Chain{"127.0.0.1"});
    auto r = via("/products/3", {"203.0.113.4"});
    EXPECT_TRUE(is_problem(r, 429)) << "one bucket: the peer's, whatever the header says; " << r.status;
    EXPECT_EQ(product.count(), 2);
  }
}

TEST_F(GatewayClientAddress, AMalformedEntryFromATrustedProxyKeepsTheProxysBucketAndIsCounted) {
  start(limited("127.0.0.1"));
  EXPECT_EQ(via("/products/1", {"unknown"}).status, 200);
  EXPECT_EQ(forwarded_upstream(), Chain{"unknown, 127.0.0.1"}) << "passed on as received";
  EXPECT_EQ(via("/products/2", {"203.0.113.1, not-an-ip"}).status, 200);
  EXPECT_TRUE(is_problem(via("/products/3", {}), 429)) << "both went to the proxy's bucket";
  EXPECT_EQ(via("/products/4", {"203.0.113.1"}).status, 200) << "a well-formed client still has its own";
  EXPECT_EQ(metric_of({}, "gateway_forwarded_for_malformed_total"), 2);
}

// GATEWAY_MAX_CONNECTIONS_PER_CLIENT: one peer holds at most that many connections, idle
// ones included (the rate limiter counts requests, not connections); one more is answered
// 429 and closed. A trusted proxy's connections are not counted: they carry many clients.
TEST_F(GatewayClientAddress, APeerHoldsAtMostItsShareOfConnectionsUnlessItIsATrustedProxy) {
  constexpr std::string_view kGet = "GET /products/1 HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const bool trusted : {false, true}) {
    SCOPED_TRACE(trusted ? "the test is a trusted proxy" : "the test is a client");
    gateway.stop();
    start({{"GATEWAY_MAX_CONNECTIONS_PER_CLIENT", "2"}, {"GATEWAY_TRUSTED_PROXIES", trusted ? "127.0.0.1" : "10.0.0.0/8"}});
    std::vector<std::unique_ptr<sales_test::RawClient>> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(std::make_unique<sales_test::RawClient>(gateway.port()));
      held.back()->send(kGet);
      const std::string got = held.back()->read_for(std::chrono::milliseconds(500));  // then a kept connection's silence
      const bool refused = i == 2 && !trusted;
      EXPECT_EQ(got.rfind(refused ? "HTTP/1.1 429 " : "HTTP/1.1 200 ", 0), 0u) << "connection " << i << ": " << got;
    }
    // Scraped from another address: this client's places are all taken.
    sales_test::RawClient scrape(gateway.port(), 0, "127.0.0.2");
    scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const std::string metrics = scrape.read_for(std::chrono::milliseconds(2000));
    EXPECT_EQ(sales_test::metric_sum(metrics.substr(metrics.find("\r\n\r\n") + 4), "http_connections_refused_total",
                                     {{"cap", "client"}}),
              trusted ? 0 : 1);
  }
}

}  // namespace
}  // namespace gateway_test

// CORS over real HTTP: the real sales-gateway binary in front of fake upstreams. A
// preflight is answered by the gateway and reaches no service; every other answer a script
// may need (the service's, the gateway's refusals, the server's own 413) can be read by a
// listed origin's script, and a cached answer never carries another origin's fields.
// These are the CORS tests with the whole gateway: the e2e stack runs with CORS off.
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace gateway_test {
namespace {

constexpr const char* kShop = "https://shop.example";

class GatewayCors : public GatewayFixture {
 protected:
  static Headers from(const char* origin) {
    Headers h;
    h.set("Origin", origin);
    return h;
  }
  static Headers preflight_from(const char* origin, const char* method) {
    auto h = from(origin);
    h.set("Access-Control-Request-Method", method);
    h.set("Access-Control-Request-Headers", "content-type,idempotency-key");
    return h;
  }
  static bool varies_by_origin(const Response& r) { return header(r, "Vary").find("Origin") != std::string::npos; }
};

TEST_F(GatewayCors, APreflightIsAnsweredByTheGatewayAlone) {
  start({{"GATEWAY_CORS_ALLOWED_ORIGINS", kShop}});
  auto ok = send(gw, "OPTIONS", "/products", preflight_from(kShop, "POST"));
  EXPECT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(header(ok, "Access-Control-Allow-Origin"), kShop);
  EXPECT_NE(header(ok, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(header(ok, "Access-Control-Allow-Headers").find("Idempotency-Key"), std::string::npos);

  auto refused = send(gw, "OPTIONS", "/products/1", preflight_from("https://evil.example", "DELETE"));
  EXPECT_TRUE(is_problem(refused, 403)) << refused.status << " " << refused.body;
  EXPECT_EQ(header(refused, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(product.count(), 0) << "no preflight reaches a service";
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_rejections_total", {{"reason", "cors_origin"}}), 1.0);

  // OPTIONS without the preflight's fields is an ordinary request: the service answers it.
  auto plain = send(gw, "OPTIONS", "/products/1");
  EXPECT_EQ(product.count(), 1);
  EXPECT_EQ(plain.status, 200) << "the fake answers every method";

  // The operator endpoints are not for scripts: the router answers, without CORS fields.
  auto metrics = send(gw, "OPTIONS", "/metrics", preflight_from(kShop, "GET"));
  EXPECT_EQ(metrics.status, 204);
  EXPECT_NE(header(metrics, "Allow").find("GET"), std::string::npos);
  EXPECT_EQ(header(metrics, "Access-Control-Allow-Origin"), "");
}

TEST_F(GatewayCors, AnOpenCircuitsRefusalCarriesTheAllowOriginToo) {
  start({{"GATEWAY_CORS_ALLOWED_ORIGINS", kShop},
         {"GATEWAY_CB_WINDOW", "2"},
         {"GATEWAY_CB_MIN_CALLS", "2"},
         {"GATEWAY_RETRY_MAX", "0"}});
  customer.fail(500);
  for (int i = 0; i < 2; ++i) {
    auto failed = get(gw, "/customers/1", from(kShop));
    EXPECT_EQ(failed.status, 500);
    EXPECT_EQ(header(failed, "Access-Control-Allow-Origin"), kShop) << "the service's own failure";
  }
  auto open = get(gw, "/customers/1", from(kShop));
  EXPECT_TRUE(is_problem(open, 503)) << open.status << " " << open.body;
  EXPECT_EQ(header(open, "Access-Control-Allow-Origin"), kShop);
  EXPECT_EQ(customer.count(), 2) << "the open circuit sent nothing";
}

TEST_F(GatewayCors, EveryRefusalToAListedOriginCarriesItsAllowOrigin) {
  start({{"GATEWAY_CORS_ALLOWED_ORIGINS", "https://admin.example," + std::string(kShop)},
         {"GATEWAY_MAX_BODY_BYTES", "1024"},
         {"GATEWAY_RATE_LIMIT_MAX", "5"},
         {"GATEWAY_RATE_LIMIT_WINDOW_MS", "600000"}});
  auto ok = get(gw, "/products/1", from(kShop));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(header(ok, "Access-Control-Allow-Origin"), kShop);
  EXPECT_NE(header(ok, "Access-Control-Expose-Headers").find("X-Request-Id"), std::string::npos);
  EXPECT_TRUE(varies_by_origin(ok));
  struct Case {
    const char* what;
    Response r;
    int status;
  } refusals[] = {
      {"unknown prefix", get(gw, "/nope", from(kShop)), 404},             // thrown by the router
      {"upstream down", get(gw, "/orders/1", from(kShop)), 502},           // nothing listens
      {"body too large", send(gw, "POST", "/products", from(kShop), std::string(2048, ' ')), 413},  // the server's own
  };
  for (const auto& c : refusals) {
    EXPECT_TRUE(is_problem(c.r, c.status)) << c.what << ": " << c.r.status << " " << c.r.body;
    EXPECT_EQ(header(c.r, "Access-Control-Allow-Origin"), kShop) << c.what;
    EXPECT_TRUE(varies_by_origin(c.r)) << c.what;
  }
  Response limited;
  for (int i = 0; i < 5 && limited.status != 429; ++i) limited = get(gw, "/products/2", from(kShop));
  ASSERT_TRUE(is_problem(limited, 429)) << limited.status;
  EXPECT_EQ(header(limited, "Access-Control-Allow-Origin"), kShop) << "or the script only sees a network error";

  auto other = get(gw, "/nope", from("https://evil.example"));
  EXPECT_EQ(header(other, "Access-Control-Allow-Origin"), "");
  EXPECT_TRUE(varies_by_origin(other));
  auto metrics = get(gw, "/metrics", from(kShop));
  EXPECT_EQ(header(metrics, "Access-Control-Allow-Origin"), "") << "operator endpoints are not for scripts";
}

TEST_F(GatewayCors, ACachedAnswerCarriesTheFieldsOfWhoeverAsksNow) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CORS_ALLOWED_ORIGINS", "https://admin.example," + std::string(kShop)},
         {"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});  // the 500 ms default could expire between the requests
  auto stored = get(gw, "/products/7", from(kShop));
  EXPECT_EQ(header(stored, "Access-Control-Allow-Origin"), kShop);
  auto admin = get(gw, "/products/7", from("https://admin.example"));
  EXPECT_NE(header(admin, "Cache-Status").find("hit"), std::string::npos) << "served from the cache";
  EXPECT_EQ(header(admin, "Access-Control-Allow-Origin"), "https://admin.example");
  EXPECT_TRUE(varies_by_origin(admin));
  auto evil = get(gw, "/products/7", from("https://evil.example"));
  EXPECT_NE(header(evil, "Cache-Status").find("hit"), std::string::npos);
  EXPECT_EQ(header(evil, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(product.count(), 1);
}

TEST_F(GatewayCors, WithoutTheSettingTheGatewayAddsNothingAndForwardsOptions) {
  start();
  auto pre = send(gw, "OPTIONS", "/products/1", preflight_from(kShop, "POST"));
  EXPECT_EQ(header(pre, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(product.count(), 1) << "forwarded: the service says what it allows";
  auto r = get(gw, "/products/1", from(kShop));
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(header(r, "Vary"), "");
}

}  // namespace
}  // namespace gateway_test

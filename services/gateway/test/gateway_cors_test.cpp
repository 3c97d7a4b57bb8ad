// CORS over real HTTP: the real sales-gateway binary in front of fake upstreams. A
// preflight is answered by the gateway and reaches no service; every other answer (the
// service's, and the gateway's own refusals) can be read by a listed origin's script.
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace gateway_test {
namespace {

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
};

TEST_F(GatewayCors, APreflightIsAnsweredByTheGatewayAlone) {
  start({{"GATEWAY_CORS_ALLOWED_ORIGINS", "https://shop.example"}});
  auto ok = send(gw, "OPTIONS", "/orders", preflight_from("https://shop.example", "POST"));
  EXPECT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(header(ok, "Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_NE(header(ok, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(header(ok, "Access-Control-Allow-Headers").find("Idempotency-Key"), std::string::npos);

  auto refused = send(gw, "OPTIONS", "/products/1", preflight_from("https://evil.example", "DELETE"));
  EXPECT_TRUE(is_problem(refused, 403)) << refused.status << " " << refused.body;
  EXPECT_EQ(header(refused, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(product.count(), 0) << "no preflight reaches a service";
  EXPECT_EQ(metric(metrics_text(gw), "gateway_rejections_total", {{"reason", "cors_origin"}}), 1.0);

  // OPTIONS without the preflight's fields is an ordinary request: the service answers it.
  auto plain = send(gw, "OPTIONS", "/products/1");
  EXPECT_EQ(product.count(), 1);
  EXPECT_EQ(plain.status, 200) << "the fake answers every method";
}

TEST_F(GatewayCors, EveryAnswerToAListedOriginCarriesItsAllowOriginEvenARefusal) {
  start({{"GATEWAY_CORS_ALLOWED_ORIGINS", "https://admin.example,https://shop.example"},
         {"GATEWAY_RATE_LIMIT_MAX", "1"},
         {"GATEWAY_RATE_LIMIT_WINDOW_MS", "600000"}});
  auto ok = get(gw, "/products/1", from("https://shop.example"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(header(ok, "Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_NE(header(ok, "Access-Control-Expose-Headers").find("X-Request-Id"), std::string::npos);
  EXPECT_NE(header(ok, "Vary").find("Origin"), std::string::npos);
  // The 429 must be readable too, or the script only sees a network error.
  auto limited = get(gw, "/products/2", from("https://shop.example"));
  EXPECT_TRUE(is_problem(limited, 429)) << limited.status;
  EXPECT_EQ(header(limited, "Access-Control-Allow-Origin"), "https://shop.example");
  auto other = get(gw, "/products/3", from("https://evil.example"));
  EXPECT_EQ(header(other, "Access-Control-Allow-Origin"), "");
  EXPECT_NE(header(other, "Vary").find("Origin"), std::string::npos);
}

TEST_F(GatewayCors, WithoutTheSettingTheGatewayAddsNothingAndForwardsOptions) {
  start();
  auto pre = send(gw, "OPTIONS", "/products/1", preflight_from("https://shop.example", "POST"));
  EXPECT_EQ(header(pre, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(product.count(), 1) << "forwarded: the service says what it allows";
  auto r = get(gw, "/products/1", from("https://shop.example"));
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(header(r, "Vary"), "");
}

}  // namespace
}  // namespace gateway_test

// What the gateway passes on to a service: the client's end-to-end fields, never the fields
// of its own hop — the fixed hop-by-hop ones and those the client's Connection names (RFC
// 9110 §7.6.1) — nor a chunked body's trailer fields. The client is a raw socket, so the
// test controls every byte of the request.
#include <gtest/gtest.h>

#include "sales_test/raw_client.hpp"
#include "support/harness.hpp"

namespace gateway_test {
namespace {

using namespace std::chrono_literals;

class GatewayForwarding : public GatewayFixture {
 protected:
  // The fields the product service received with its only request.
  Headers forwarded(const std::string& request) {
    sales_test::RawClient client(static_cast<std::uint16_t>(std::stoi(gw.substr(gw.rfind(':') + 1))));
    client.send(request);
    const auto answer = client.read_for(1500ms);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer.substr(0, 300);
    auto seen = product.received();
    EXPECT_EQ(seen.size(), 1u);
    return seen.empty() ? Headers{} : seen.back().headers;
  }
};

TEST_F(GatewayForwarding, FieldsOfTheClientsHopStayWithTheGateway) {
  start();
  const auto got = forwarded(
      "GET /products/1 HTTP/1.1\r\nHost: shop\r\nConnection: X-Hop-Secret, keep-alive\r\n"
      "X-Hop-Secret: for the gateway alone\r\nKeep-Alive: timeout=5\r\nX-End: kept\r\n\r\n");
  EXPECT_FALSE(got.get("X-Hop-Secret")) << "named in Connection: this hop's alone";
  EXPECT_FALSE(got.get("Keep-Alive"));
  EXPECT_EQ(got.get("X-End").value_or(""), "kept");
}

// A client's Connection list removes its own fields only: what the gateway adds (request id,
// trace, budget, X-Forwarded-For) is added after, and goes out whatever the list named.
TEST_F(GatewayForwarding, AClientsConnectionListCannotRemoveTheGatewaysOwnFields) {
  start();
  const auto got = forwarded(
      "GET /products/1 HTTP/1.1\r\nHost: shop\r\n"
      "Connection: X-Request-Id, traceparent, X-Forwarded-For, X-Request-Budget-Ms\r\n\r\n");
  EXPECT_EQ(got.get("X-Request-Id").value_or("").size(), 32u) << "one the gateway made";
  EXPECT_TRUE(got.get("traceparent"));
  EXPECT_TRUE(got.get("X-Request-Budget-Ms"));
  EXPECT_EQ(got.get("X-Forwarded-For").value_or(""), "127.0.0.1");
}

TEST_F(GatewayForwarding, TrailerFieldsAreNotPassedOn) {
  start();
  const auto got = forwarded(
      "POST /products HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Forwarded-For: 6.6.6.6\r\nX-Trailer: yes\r\n\r\n");
  EXPECT_FALSE(got.get("X-Trailer"));
  EXPECT_EQ(got.get("X-Forwarded-For").value_or(""), "127.0.0.1") << "the client's address, not a trailer's";
}

}  // namespace
}  // namespace gateway_test

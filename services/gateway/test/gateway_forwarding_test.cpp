// What the gateway passes on to a service: the client's end-to-end fields, never the fields
// of its own hop — the fixed hop-by-hop ones and those the client's Connection names (RFC
// 9110 §7.6.1) — nor a chunked body's trailer fields; and answers no more than its budget
// for answers held at once. The client is a raw socket, so the test controls every byte of
// the request and whether it reads the answer.
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

// A client may name the whole URL (RFC 9112 §3.2.2: a server must take the absolute form):
// it is routed by its path and passed on in the form the services know.
TEST_F(GatewayForwarding, AnAbsoluteFormTargetIsRoutedAndPassedOnByItsPath) {
  start();
  forwarded("GET http://shop:8080/products/1?x=1 HTTP/1.1\r\nHost: shop:8080\r\n\r\n");
  const auto seen = product.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.back().target, "/products/1?x=1");
}

TEST_F(GatewayForwarding, TrailerFieldsAreNotPassedOn) {
  start();
  const auto got = forwarded(
      "POST /products HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Forwarded-For: 6.6.6.6\r\nX-Trailer: yes\r\n\r\n");
  EXPECT_FALSE(got.get("X-Trailer"));
  EXPECT_EQ(got.get("X-Forwarded-For").value_or(""), "127.0.0.1") << "the client's address, not a trailer's";
}

// The upstreams' answers held at once are bounded (GATEWAY_ANSWERS_MAX_BYTES), until they
// are written: one answer of 13 MB to a client that does not read holds it, so a second is
// refused with a 503 (not retried, not a breaker failure) until the first client goes;
// small answers still pass (the budget's last eighth is kept for them).
TEST_F(GatewayForwarding, AnswersPastTheBudgetForAnswersHeldAreRefusedUntilOneIsWritten) {
  start({{"GATEWAY_ANSWERS_MAX_BYTES", std::to_string(16 << 20)}, {"GATEWAY_RETRY_MAX", "3"}});
  product.pad_bytes = 13'000'000;
  const auto port = static_cast<std::uint16_t>(std::stoi(gw.substr(gw.rfind(':') + 1)));
  auto held = [&] { return metric_sum(metrics_text(gw), "gateway_answers_held_bytes", {}).value_or(-1); };
  {
    sales_test::RawClient stalled(port, /*receive_buffer_bytes=*/4096);
    stalled.send("GET /products HTTP/1.1\r\nHost: shop\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return held() >= 13'000'000; }, 10s)) << held();
    const auto held_by_stalled = held();

    auto refused = get(gw, "/products");
    EXPECT_TRUE(is_problem(refused, 503)) << refused.status << " " << refused.body.substr(0, 200);
    EXPECT_EQ(header(refused, "Retry-After"), "1");
    EXPECT_NE(problem_detail(refused).find("too many answers"), std::string::npos) << problem_detail(refused);
    EXPECT_EQ(product.count(), 2) << "not retried: a retry would add to the load";
    EXPECT_EQ(breaker_field(gw, "product", "failed_calls"), 0);
    EXPECT_EQ(metric_of({{"reason", "answers_full"}}, "gateway_rejections_total"), 1);
    EXPECT_EQ(metric_of({{"upstream", "product"}, {"outcome", "dropped"}}, "gateway_upstream_attempts_total"), 1);
    EXPECT_EQ(problem_detail(refused).find("may have been applied"), std::string::npos) << "a GET changes nothing";
    EXPECT_EQ(held(), held_by_stalled) << "the refused answer's bytes are given back";
    auto post = send(gw, "POST", "/products", {}, R"({"name":"x"})");
    EXPECT_TRUE(is_problem(post, 503)) << post.status;
    EXPECT_NE(problem_detail(post).find("may have been applied"), std::string::npos)
        << "a POST reached the service: its client must know" << problem_detail(post);
    EXPECT_EQ(held(), held_by_stalled);
    // A small answer (a single resource, a POST's) is never refused for want of room: one
    // client holding large answers must not make every request fail.
    auto small = get(gw, "/customers/1");
    EXPECT_EQ(small.status, 200) << problem_detail(small);
    EXPECT_EQ(held(), held_by_stalled);
  }  // the stalled client closes: its answer's write fails and its bytes are given back
  ASSERT_TRUE(eventually([&] { return held() == 0; }, 10s)) << held();
  auto fits = get(gw, "/products");
  EXPECT_EQ(fits.status, 200) << problem_detail(fits);
  EXPECT_GT(fits.body.size(), 13'000'000u);
}

}  // namespace
}  // namespace gateway_test

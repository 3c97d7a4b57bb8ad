// The gateway's retries, connection faults and deadline over real HTTP (DESIGN.md §5): the
// real sales-gateway binary, started per test with small settings, in front of
// fault-injecting upstreams on 127.0.0.1. Timing assertions use generous margins; waits are
// bounded polls, never bare sleeps that must be "long enough".
#include <gtest/gtest.h>

#include "sales_test/raw_client.hpp"
#include "support/harness.hpp"

namespace gateway_test {
namespace {

class GatewayRetry : public GatewayFixture {};

// --------------------------------------------------------------------------- retries

TEST_F(GatewayRetry, IdempotentRequestsAreRetriedOn502_503_504UntilTheyAreAnswered) {
  start({{"GATEWAY_RETRY_MAX", "3"}, {"GATEWAY_CB_WINDOW", "100"}, {"GATEWAY_CB_MIN_CALLS", "100"}});
  struct Case {
    const char* method;
    int status;
  };
  for (auto c : {Case{"GET", 502}, Case{"GET", 503}, Case{"GET", 504}, Case{"HEAD", 503}, Case{"PUT", 503},
                 Case{"DELETE", 502}}) {
    SCOPED_TRACE(std::string(c.method) + " after two " + std::to_string(c.status));
    product.reset();
    product.fail(c.status, 2);
    auto r = send(gw, c.method, "/products/7?view=full", {}, std::string(c.method) == "PUT" ? R"({"a":1})" : "");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(header(r, "X-Fake-Upstream"), "product");
    auto seen = product.received();
    ASSERT_EQ(seen.size(), 3u) << "two failures, then the answer";
    for (const auto& s : seen) {
      EXPECT_EQ(s.method, c.method);
      EXPECT_EQ(s.target, "/products/7?view=full");
    }
    if (std::string(c.method) == "PUT") {
      EXPECT_EQ(seen[2].body, R"({"a":1})");
    }
  }
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "attempted"}}, "gateway_retries_total"), 12);
}

TEST_F(GatewayRetry, APostWithoutIdempotencyKeyIsNotRetried) {
  start({{"GATEWAY_RETRY_MAX", "3"}});
  product.fail(503);
  auto r = send(gw, "POST", "/products", {}, R"({"name":"x"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(header(r, "X-Fake-Upstream"), "product") << "the upstream's answer, passed through";
  EXPECT_EQ(product.count(), 1);
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "attempted"}}, "gateway_retries_total"), 0);
}

TEST_F(GatewayRetry, APostWithIdempotencyKeyIsRetriedWithTheSameKeyAndBody) {
  start({{"GATEWAY_RETRY_MAX", "3"}});
  product.fail(503, 2);
  Headers h;
  h.set("Idempotency-Key", "key-" + sales_test::unique_suffix());
  auto r = send(gw, "POST", "/products", h, R"({"name":"x"})");
  EXPECT_EQ(r.status, 200);
  auto seen = product.received();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& s : seen) {
    EXPECT_EQ(s.method, "POST");
    EXPECT_EQ(s.headers.get("Idempotency-Key").value_or(""), *h.get("Idempotency-Key"));
    EXPECT_EQ(s.body, R"({"name":"x"})");
  }
}

TEST_F(GatewayRetry, APostIsNotSentIntoAPooledConnectionTheUpstreamClosed) {
  // A service that restarts closes its keep-alive connections. A POST written into one of
  // them can only fail (and is not retried): the gateway must notice the close first.
  auto upstream = std::make_unique<FakeUpstream>("product-1");
  auto port = upstream->port();
  start({{"PRODUCT_SERVICE_URL", upstream->url()}});
  ASSERT_EQ(send(gw, "POST", "/products", {}, R"({"a":1})").status, 200);  // leaves a pooled connection
  upstream.reset();
  upstream = std::make_unique<FakeUpstream>("product-2", port);
  std::this_thread::sleep_for(20ms);  // the close has reached the gateway's idle connection
  auto r = send(gw, "POST", "/products", {}, R"({"a":2})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "X-Fake-Upstream"), "product-2");
  EXPECT_EQ(upstream->count(), 1);
}

TEST_F(GatewayRetry, ClientErrorsAndOther5xxAreNeverRetried) {
  start({{"GATEWAY_RETRY_MAX", "3"}});
  for (int status : {400, 404, 409, 422, 429, 500, 501}) {
    SCOPED_TRACE(status);
    product.reset();
    product.fail(status);
    auto r = get(gw, "/products/1");
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(product.count(), 1);
  }
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "attempted"}}, "gateway_retries_total"), 0);
  // 4xx are the client's errors: they count as successes for the breaker; 5xx as failures.
  auto b = breaker(gw, "product");
  EXPECT_EQ(b.at("successful_calls").to_number<int>(), 5);
  EXPECT_EQ(b.at("failed_calls").to_number<int>(), 2);
}

TEST_F(GatewayRetry, RetriesStopAtRetryMax) {
  start({{"GATEWAY_RETRY_MAX", "2"}});
  product.fail(503);
  auto r = get(gw, "/products/1");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(header(r, "X-Fake-Upstream"), "product") << "the last upstream answer";
  EXPECT_EQ(product.count(), 3) << "one attempt and two retries";
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "attempted"}}, "gateway_retries_total"), 2);
}

TEST_F(GatewayRetry, RetryMaxZeroMeansASingleAttempt) {
  start({{"GATEWAY_RETRY_MAX", "0"}});
  product.fail(502);
  EXPECT_EQ(get(gw, "/products/1").status, 502);
  EXPECT_EQ(product.count(), 1);
}

TEST_F(GatewayRetry, TheRetryBudgetRefusesRetriesBeyondItsShare) {
  // 0 % of traffic: only the budget's floor (3 retries per second over its 10 s window) is
  // granted. The breaker is kept out of the way (it would need 1000 calls to decide).
  start({{"GATEWAY_RETRY_MAX", "1"},
         {"GATEWAY_RETRY_BASE_MS", "1"},
         {"GATEWAY_RETRY_BUDGET_PERCENT", "0"},
         {"GATEWAY_TIMEOUT_MS", "1000"},  // an attempt that may be retried: 500 ms
         {"GATEWAY_CB_WINDOW", "1000"},
         {"GATEWAY_CB_MIN_CALLS", "1000"}});
  product.fail(503);
  constexpr int kRequests = 45;
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(get(gw, "/products/1").status, 503);
  auto text = metrics_text(gw);
  double attempted = metric_sum(text, "gateway_retries_total", {{"upstream", "product"}, {"result", "attempted"}}).value_or(-1);
  double refused =
      metric_sum(text, "gateway_retries_total", {{"upstream", "product"}, {"result", "refused_by_budget"}}).value_or(-1);
  EXPECT_GE(refused, 1) << "retries must stop multiplying a failing upstream's load";
  EXPECT_LE(attempted, 35) << "the floor is 30 per 10 s";
  EXPECT_EQ(attempted + refused, kRequests) << "each request wanted exactly one retry";
  EXPECT_EQ(product.count(), kRequests + static_cast<int>(attempted));

  // With retries refused, a slow answer gets the whole deadline instead of half of it.
  product.reset();
  product.delay_ms = 700;
  auto slow = get(gw, "/products/1");
  EXPECT_EQ(slow.status, 200) << slow.body;
  EXPECT_EQ(product.count(), 1);
}

// An operator who sets both the share and the floor to 0 gets no retries at all.
TEST_F(GatewayRetry, ABudgetOfNothingMakesNoRetries) {
  start({{"GATEWAY_RETRY_BASE_MS", "1"},
         {"GATEWAY_RETRY_BUDGET_PERCENT", "0"},
         {"GATEWAY_RETRY_BUDGET_MIN_PER_SECOND", "0"}});
  product.fail(503);
  EXPECT_EQ(get(gw, "/products/1").status, 503);
  EXPECT_EQ(product.count(), 1) << "no retry may be made";
}

TEST_F(GatewayRetry, ARetryTheBreakerRefusesAfterTheBackoffGivesItsBudgetBack) {
  // The first retry is sent and its failure opens the breaker; the second retry the budget
  // granted is then refused by it, so it is never sent and must not use up a retry another
  // request could make.
  start({{"GATEWAY_RETRY_MAX", "2"},
         {"GATEWAY_RETRY_BASE_MS", "1"},
         {"GATEWAY_CB_WINDOW", "2"},
         {"GATEWAY_CB_MIN_CALLS", "2"},
         {"GATEWAY_CB_OPEN_MS", "60000"}});
  product.fail(503);
  auto r = get(gw, "/products/1");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(header(r, "X-Fake-Upstream"), "product") << "the upstream's own answer, not the breaker's refusal";
  EXPECT_EQ(product.count(), 2) << "one attempt and one retry; the second retry was never sent";
  auto b = breaker(gw, "product");
  EXPECT_EQ(b.at("state").as_string(), "open");
  EXPECT_EQ(b.at("retry_budget_requests").to_number<int>(), 1);
  EXPECT_EQ(b.at("retry_budget_retries").to_number<int>(), 1) << "the retry sent still counts";
  EXPECT_EQ(b.at("retry_budget_returned").to_number<int>(), 1);
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "attempted"}}, "gateway_retries_total"), 1);
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "refused_by_breaker"}}, "gateway_retries_total"), 1);
  EXPECT_EQ(metric_of({{"upstream", "product"}}, "gateway_retry_budget_retries"), 1);
  EXPECT_GE(metric_of({{"upstream", "product"}}, "gateway_retry_budget_allowance"), 30) << "the floor: 3/s over 10 s";
}

// ----------------------------------------------------------------------- connection faults

TEST_F(GatewayRetry, AnUpstreamWhereNothingListensGives502Problem) {
  start({{"PRODUCT_SERVICE_URL", dead.url()}});
  auto t0 = Clock::now();
  auto r = get(gw, "/products/1");
  EXPECT_TRUE(is_problem(r, 502)) << r.status << " " << r.body;
  EXPECT_LT(since(t0), 3000ms);
  EXPECT_NE(problem_detail(r).find("product"), std::string::npos) << r.body;
  EXPECT_EQ(breaker_field(gw, "product", "failed_calls"), 4) << "a connection error is retried (3 retries)";
  auto post = send(gw, "POST", "/products", {}, R"({"name":"x"})");
  EXPECT_TRUE(is_problem(post, 502)) << post.body;
  EXPECT_EQ(problem_detail(post).find("may have been applied"), std::string::npos) << "a refused connection carried nothing";
}

TEST_F(GatewayRetry, UpstreamHostNamesAreResolvedAndAnUnknownNameGives502) {
  auto port = product.url().substr(product.url().rfind(':'));
  start({{"PRODUCT_SERVICE_URL", "http://localhost" + port}, {"CUSTOMER_SERVICE_URL", "http://no-such-host.invalid:8003"}});
  EXPECT_EQ(get(gw, "/products/1").status, 200);
  auto r = get(gw, "/customers/1");
  EXPECT_TRUE(is_problem(r, 502)) << r.status << " " << r.body;
}

// A retry whose drawn delay would not leave it time before the deadline is not made; the
// client gets the last attempt's own failure (a 502: the connection closed), not a 504 that
// says the deadline passed while most of it is left. A 60 s base draws a delay that fits
// 300 ms about once in 200.
TEST_F(GatewayRetry, ARetryThatWouldNotFitLeavesTheLastAttemptsOwnFailure) {
  ResetServer resets;
  start({{"PRODUCT_SERVICE_URL", resets.url()}, {"GATEWAY_TIMEOUT_MS", "300"}, {"GATEWAY_RETRY_BASE_MS", "60000"},
         {"GATEWAY_CB_WINDOW", "100"}, {"GATEWAY_CB_MIN_CALLS", "100"}});
  for (int i = 0; i < 5; ++i) {
    auto r = get(gw, "/products/1");
    EXPECT_TRUE(is_problem(r, 502)) << r.status << " " << r.body;
    EXPECT_NE(problem_detail(r).find("closed the connection without an answer"), std::string::npos) << r.body;
  }
}

// A client that has gone by the time a retry would be sent gets none sent for it: the upstream
// sees the one attempt, and the retry's grant goes back to the budget.
TEST_F(GatewayRetry, NoRetryIsSentForAClientThatHasGone) {
  start({{"GATEWAY_TIMEOUT_MS", "1000"}, {"GATEWAY_CB_WINDOW", "100"}, {"GATEWAY_CB_MIN_CALLS", "100"}});
  product.delay_ms = 3000;  // each attempt times out, at half the deadline
  {
    sales_test::RawClient client(gateway.port());
    client.send("GET /products/1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return product.count() == 1; }, 2s));
  }  // closed while its first attempt waits
  ASSERT_TRUE(eventually([&] { return metric_of({{"upstream", "product"}, {"result", "client_left"}}, "gateway_retries_total") == 1; }, 3s))
      << "the retry was not given up";
  EXPECT_EQ(product.count(), 1) << "a retry went out for nobody";
  EXPECT_EQ(metric_of({{"upstream", "product"}, {"result", "attempted"}}, "gateway_retries_total"), 0);
  EXPECT_EQ(breaker_field(gw, "product", "retry_budget_returned"), 1) << "its grant went back to the budget";
}

TEST_F(GatewayRetry, AConnectionResetIsRetriedForIdempotentRequestsOnly) {
  ResetServer resets;
  start({{"PRODUCT_SERVICE_URL", resets.url()}, {"GATEWAY_RETRY_MAX", "3"}});
  auto r = get(gw, "/products/1");
  EXPECT_TRUE(is_problem(r, 502)) << r.status << " " << r.body;
  EXPECT_EQ(resets.connections(), 4) << "one attempt and three retries, each on a new connection";

  auto before = resets.connections();
  auto p = send(gw, "POST", "/products", {}, R"({"name":"x"})");
  EXPECT_TRUE(is_problem(p, 502)) << p.status << " " << p.body;
  EXPECT_EQ(resets.connections() - before, 1) << "a POST without Idempotency-Key is sent once";
  // Sent, and no answer: the client is told it may have been made, and how to repeat it.
  EXPECT_NE(problem_detail(p).find("may have been applied: check before sending it again"), std::string::npos) << p.body;
  EXPECT_EQ(problem_detail(r).find("may have been applied"), std::string::npos) << "a read changes nothing";
  Headers key;
  key.set("Idempotency-Key", "k-reset");
  auto keyed = send(gw, "POST", "/products", key, R"({"name":"x"})");
  EXPECT_NE(problem_detail(keyed).find("may have been applied; repeating it as it was"), std::string::npos) << keyed.body;
}

// An upstream that answers with something that is no HTTP is a 502 that says so, not one that
// says it closed without an answer; a broken upstream, it counts against its breaker.
TEST_F(GatewayRetry, AnAnswerThatIsNotHttpIsA502SayingSo) {
  ResetServer garbage("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  ResetServer big_head("HTTP/1.1 200 OK\r\nX-Pad: " + std::string(9000, 'x') + "\r\nContent-Length: 0\r\n\r\n");
  start({{"PRODUCT_SERVICE_URL", garbage.url()}, {"CUSTOMER_SERVICE_URL", big_head.url()}, {"GATEWAY_RETRY_MAX", "1"}});
  for (const char* path : {"/products/1", "/customers/1"}) {
    auto r = get(gw, path);
    EXPECT_TRUE(is_problem(r, 502)) << path << ": " << r.status << " " << r.body;
    EXPECT_NE(problem_detail(r).find("sent an answer the gateway cannot read"), std::string::npos) << r.body;
  }
  EXPECT_EQ(garbage.connections(), 2) << "retried, as after a reset";
  EXPECT_EQ(breaker_field(gw, "product", "failed_calls"), 2);
}

// An upstream that answers too much works: the answer is refused with a 502 that says so,
// once, and its breaker hears nothing. The largest valid answer (a page of 500 products of
// escaped control characters, about 12.7 MB) passes.
TEST_F(GatewayRetry, AnAnswerPastTheLimitIsA502ThatIsNeitherRetriedNorCountedAsAFailure) {
  start({{"GATEWAY_RETRY_MAX", "3"}});
  product.pad_bytes = 13'300'000;
  auto fits = get(gw, "/products");
  EXPECT_EQ(fits.status, 200) << problem_detail(fits);
  EXPECT_GT(fits.body.size(), 13'300'000u);

  product.reset();
  product.pad_bytes = 17 << 20;
  auto r = get(gw, "/products");
  EXPECT_TRUE(is_problem(r, 502)) << r.status << " " << r.body.substr(0, 200);
  EXPECT_NE(problem_detail(r).find("larger than the 16 MiB"), std::string::npos) << problem_detail(r);
  EXPECT_EQ(product.count(), 1) << "the same answer was fetched again";
  EXPECT_EQ(breaker_field(gw, "product", "failed_calls"), 0);
  EXPECT_EQ(metric_sum(metrics_text(gw), "gateway_upstream_attempts_total", {{"upstream", "product"}, {"outcome", "too_large"}}),
            1);
}

// ---------------------------------------------------------------------------- deadline

TEST_F(GatewayRetry, ASlowUpstreamGives504AtTheDeadlineAndGetsNothingAfterIt) {
  start({{"GATEWAY_TIMEOUT_MS", "1000"}, {"GATEWAY_RETRY_MAX", "5"}});
  product.delay_ms = 5000;
  auto t0 = Clock::now();
  auto r = get(gw, "/products/1");
  auto took = since(t0);
  EXPECT_TRUE(is_problem(r, 504)) << r.status << " " << r.body;
  EXPECT_GE(took, 900ms);
  EXPECT_LE(took, 1700ms) << "the deadline (1000 ms) bounds all attempts";
  // Each attempt gets half the deadline, so the first one timed out and was retried once;
  // the retry used the rest of the deadline, and no third attempt was started.
  auto seen = product.received();
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& s : seen) {
    EXPECT_LT(s.at - t0, 1000ms) << "a request reached the upstream after the deadline";
    auto budget = int_header(s.headers, "X-Request-Budget-Ms");
    ASSERT_TRUE(budget.has_value());
    EXPECT_GT(*budget, 0);
    EXPECT_LE(*budget, 500);
  }
  // Nothing else arrives later either.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(product.count(), 2);
  auto text = metrics_text(gw);
  EXPECT_EQ(metric_sum(text, "gateway_rejections_total", {{"reason", "deadline"}}).value_or(-1), 1);
}

TEST_F(GatewayRetry, ABackoffThatWouldEndPastTheDeadlineIsNotWaitedFor) {
  // Backoff drawn from [0, 60 s] against a 400 ms deadline: the gateway must give up (with
  // the upstream's last answer) instead of sleeping past the deadline or retrying after it.
  start({{"GATEWAY_TIMEOUT_MS", "400"}, {"GATEWAY_RETRY_MAX", "3"}, {"GATEWAY_RETRY_BASE_MS", "60000"}});
  product.fail(503);
  auto t0 = Clock::now();
  auto r = get(gw, "/products/1");
  EXPECT_LT(since(t0), 1000ms);
  EXPECT_EQ(r.status, 503);
  auto seen = product.received();
  ASSERT_GE(seen.size(), 1u);
  for (const auto& s : seen) EXPECT_LT(s.at - t0, 400ms);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(product.count(), static_cast<int>(seen.size())) << "nothing is sent after the deadline";
}

TEST_F(GatewayRetry, TheRequestBudgetTravelsToTheUpstream) {
  start({{"GATEWAY_TIMEOUT_MS", "2000"}, {"GATEWAY_RETRY_MAX", "0"}});
  ASSERT_EQ(get(gw, "/products/1").status, 200);
  auto seen = product.received();
  ASSERT_EQ(seen.size(), 1u);
  auto budget = int_header(seen[0].headers, "X-Request-Budget-Ms");
  ASSERT_TRUE(budget.has_value()) << "X-Request-Budget-Ms missing or not an integer";
  EXPECT_LE(*budget, 2000);
  EXPECT_GE(*budget, 1500) << "with no retries the one attempt has (almost) the whole deadline";
}

// A change that timed out may have been made (it still ran on in a stalled service): the 504
// says so, where a read's says nothing of the kind.
TEST_F(GatewayRetry, AChangeThatTimedOutMayHaveBeenApplied) {
  start({{"GATEWAY_TIMEOUT_MS", "600"}, {"GATEWAY_RETRY_MAX", "0"}});
  product.delay_ms = 2000;
  auto post = send(gw, "POST", "/products", {}, R"({"name":"slow"})");
  EXPECT_TRUE(is_problem(post, 504)) << post.body;
  EXPECT_NE(problem_detail(post).find("may have been applied: check before sending it again"), std::string::npos) << post.body;
  auto read = get(gw, "/products/1");
  EXPECT_TRUE(is_problem(read, 504)) << read.body;
  EXPECT_EQ(problem_detail(read).find("may have been applied"), std::string::npos) << read.body;
}

// A request that will not be retried has no use for half a deadline: its single attempt must
// have the whole of it, or slow but successful POSTs (orders) are cut off at 2.5 s of 5.
TEST_F(GatewayRetry, ARequestThatCannotBeRetriedGetsTheWholeDeadline) {
  start({{"GATEWAY_TIMEOUT_MS", "1500"}, {"GATEWAY_RETRY_MAX", "3"}});
  product.delay_ms = 1000;
  auto r = send(gw, "POST", "/products", {}, R"({"name":"slow"})");
  EXPECT_EQ(r.status, 200) << r.body;
  auto seen = product.received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_GT(int_header(seen[0].headers, "X-Request-Budget-Ms").value_or(0), 1000);
}

}  // namespace
}  // namespace gateway_test

// BudgetedHandler with a fake clock: a spent budget is refused without running the handler,
// a live one is the handler's deadline, and no (or an unreadable) budget changes nothing.
#include "sales/http/request_budget.hpp"

#include <gtest/gtest.h>

#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::http {
namespace {

using namespace std::chrono_literals;
namespace res = sales::resilience;

class RequestBudget : public ::testing::Test {
 protected:
  // A handler that records whether it ran and the deadline it saw, then does `then`.
  BudgetedHandler handler(std::function<void()> then = [] {}) {
    return BudgetedHandler(
        [this, then](Request&) {
          ++runs_;
          seen_ = res::current_deadline();
          then();
          return Response::json(201, R"({"id":1})");
        },
        &metrics_, "test", clock_);
  }
  Request request(std::optional<std::string> budget) {
    Request r;
    r.method = "POST";
    r.target = "/things";
    r.received_at = clock_.now();
    if (budget) r.headers.set("X-Request-Budget-Ms", *budget);
    return r;
  }
  std::uint64_t counted(const char* stage) {
    return metrics_.counter("http_requests_deadline_exceeded_total", "", {{"service", "test"}, {"stage", stage}}).value();
  }

  res::FakeClock clock_;
  metrics::Registry metrics_;
  int runs_ = 0;
  res::TimePoint seen_{};
};

void expect_timeout_problem(const Response& r) {
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_NE(r.body.find(R"("status":504)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Request-Budget-Ms"), std::string::npos) << r.body;
}

TEST_F(RequestBudget, WithoutTheHeaderTheHandlerRunsWithNoDeadline) {
  auto h = handler();
  auto req = request(std::nullopt);
  clock_.advance(1h);
  EXPECT_EQ(h(req).status, 201);
  EXPECT_EQ(runs_, 1);
  EXPECT_EQ(seen_, res::kNoDeadline);
}

TEST_F(RequestBudget, AnUnreadableBudgetIsIgnored) {
  auto h = handler();
  for (const char* garbage : {"soon", "-5", "12abc", "", "1.5", "99999999999999999999999"}) {
    auto req = request(garbage);
    EXPECT_EQ(h(req).status, 201) << garbage;
    EXPECT_EQ(seen_, res::kNoDeadline) << garbage;
  }
  EXPECT_EQ(runs_, 6);
}

TEST_F(RequestBudget, ALiveBudgetIsTheHandlersDeadlineForItsDurationOnly) {
  auto h = handler();
  auto req = request("250");
  clock_.advance(100ms);
  EXPECT_EQ(h(req).status, 201);
  // A tenth is kept back to answer in (resilience::answer_reserve).
  EXPECT_EQ(seen_, req.received_at + 225ms);
  EXPECT_EQ(res::current_deadline(), res::kNoDeadline);
  EXPECT_EQ(counted("before_handler"), 0u);
}

TEST_F(RequestBudget, AZeroBudgetIsRefusedWithoutRunningTheHandler) {
  auto h = handler();
  auto req = request("0");
  auto r = h(req);
  expect_timeout_problem(r);
  EXPECT_EQ(runs_, 0);
  EXPECT_EQ(req.route, "deadline_exceeded");
  EXPECT_EQ(counted("before_handler"), 1u);
}

// Spent, or all but the time kept back to answer in (a tenth): the handler would have none.
TEST_F(RequestBudget, ABudgetSpentWaitingForTheHandlerIsRefused) {
  auto h = handler();
  auto spent = request("100"), all_but_the_answer = request("100");
  clock_.advance(91ms);
  expect_timeout_problem(h(all_but_the_answer));
  clock_.advance(9ms);
  expect_timeout_problem(h(spent));
  EXPECT_EQ(runs_, 0);
  EXPECT_EQ(counted("before_handler"), 2u);
}

TEST_F(RequestBudget, ADeadlineHitInsideTheHandlerIsA504CountedApart) {
  auto by_client = handler([] { throw res::DeadlineExceeded("http://x/y: the request's deadline passed before the call"); });
  auto by_pool = handler([] { throw pg::DeadlineExceeded("no database connection free", "57014"); });
  auto r1 = request("100"), r2 = request("100");
  auto answer = by_client(r1);
  expect_timeout_problem(answer);
  EXPECT_EQ(answer.body.find("http://x"), std::string::npos);  // internals stay in the log
  expect_timeout_problem(by_pool(r2));
  EXPECT_EQ(counted("in_handler"), 2u);
  EXPECT_EQ(counted("before_handler"), 0u);
  EXPECT_EQ(res::current_deadline(), res::kNoDeadline);
}

TEST_F(RequestBudget, OtherFailuresPassThroughToTheServer) {
  auto h = handler([] { throw pg::Unavailable("pool timeout", "53300"); });
  auto req = request("100");
  EXPECT_THROW(h(req), pg::Unavailable);
  EXPECT_EQ(counted("in_handler"), 0u);
  EXPECT_EQ(res::current_deadline(), res::kNoDeadline);
}

}  // namespace
}  // namespace sales::http

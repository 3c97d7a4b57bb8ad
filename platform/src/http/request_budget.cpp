#include "sales/http/request_budget.hpp"

#include "sales/log/log.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales/problem/problem.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::http {

namespace {
constexpr const char* kMetric = "http_requests_deadline_exceeded_total";
constexpr const char* kHelp =
    "Requests answered 504 because their X-Request-Budget-Ms ran out, before or while their handler ran";

std::string budget_text(std::chrono::milliseconds budget) {
  return "The request's time budget (X-Request-Budget-Ms: " + std::to_string(budget.count()) + ")";
}

// A bounded metrics label, as "not_found" is for a path no route matches.
Response timeout(Request& req, metrics::Counter* counter, std::string detail) {
  if (counter) counter->inc();
  if (req.route.empty()) req.route = "deadline_exceeded";
  return to_response(Problem::gateway_timeout(std::move(detail)));
}
}  // namespace

BudgetedHandler::BudgetedHandler(Handler handler, metrics::Registry* metrics, const std::string& service,
                                 const resilience::Clock& clock)
    : handler_(std::move(handler)), clock_(&clock) {
  if (!metrics) return;
  refused_ = &metrics->counter(kMetric, kHelp, {{"service", service}, {"stage", "before_handler"}});
  cut_ = &metrics->counter(kMetric, kHelp, {{"service", service}, {"stage", "in_handler"}});
}

Response BudgetedHandler::operator()(Request& req) const {
  const auto budget = req.remaining_budget();
  if (!budget) return handler_(req);
  // The work ends a little before the caller stops waiting, so the answer (a 504 of ours,
  // or a 503 naming a callee that hung) still reaches it (resilience::answer_reserve).
  const auto deadline = resilience::deadline_after(req.received_at, *budget - resilience::answer_reserve(*budget));
  if (clock_->now() >= deadline) {
    return timeout(req, refused_, budget_text(*budget) + " had run out, but for the time kept to answer in, before the "
                                  "service could start on it; nothing was done.");
  }
  resilience::DeadlineScope scope(deadline);
  // The database pool and the client stop waiting at the deadline. What committed before
  // stays committed: the answer says only that the request did not finish.
  std::string what;
  try {
    return handler_(req);
  } catch (const resilience::DeadlineExceeded& e) {
    what = e.what();
  } catch (const pg::DeadlineExceeded& e) {
    what = e.what();
  }
  log::info("{} {}: time budget of {} ms ran out: {}", req.method, req.target, budget->count(), what);
  return timeout(req, cut_, budget_text(*budget) + " ran out before the service finished it; what it had not yet "
                            "committed was abandoned.");
}

}  // namespace sales::http

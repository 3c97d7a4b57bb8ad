#pragma once
// A blocking handler run within the time its caller gave it. The gateway forwards each
// attempt's time left as X-Request-Budget-Ms; the request's deadline is its arrival (the
// moment the server read its header) plus that budget, less the time kept back to answer
// in (resilience::answer_reserve). A request whose deadline has passed
// when its handler would start is answered 504 and its handler is not run, so nothing
// changes; otherwise the handler runs inside a resilience::DeadlineScope, which the
// database pool (its wait for a connection, and statements still running, which are
// cancelled) and the service-to-service client obey. Without the header (or with one
// that is not a non-negative integer) the handler runs exactly as before.
#include <string>

#include "sales/http/server.hpp"
#include "sales/resilience/clock.hpp"

namespace sales::metrics {
class Counter;
class Registry;
}  // namespace sales::metrics

namespace sales::http {

class BudgetedHandler {
 public:
  // Counted in `metrics` (when given) as http_requests_deadline_exceeded_total{service,
  // stage="before_handler"|"in_handler"}.
  BudgetedHandler(Handler handler, metrics::Registry* metrics, const std::string& service,
                  const resilience::Clock& clock = resilience::SteadyClock::instance());

  Response operator()(Request& req) const;

 private:
  Handler handler_;
  const resilience::Clock* clock_;
  metrics::Counter* refused_ = nullptr;  // spent before the handler started
  metrics::Counter* cut_ = nullptr;      // ran out while the handler waited
};

}  // namespace sales::http

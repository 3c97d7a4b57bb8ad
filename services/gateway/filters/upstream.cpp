#include "filters/upstream.hpp"

#include "sales/log/log.hpp"

#include <array>
#include <stdexcept>

namespace gateway {

namespace res = sales::resilience;

namespace {
std::size_t state_number(res::CircuitState s) {
  switch (s) {
    case res::CircuitState::Closed: return 0;
    case res::CircuitState::Open: return 1;
    case res::CircuitState::HalfOpen: return 2;
  }
  throw std::logic_error("a circuit state without a number");
}
}  // namespace

// Counted, and told to the log: an operator reading it during an outage sees when the
// gateway stopped sending a service requests and when it started again (rare: a few lines
// an incident, never one per request).
void Upstream::on_transition(res::CircuitState from, res::CircuitState to) {
  transitions_[state_number(to)]->inc();
  if (to == res::CircuitState::Open) {
    sales::log::warn("circuit breaker for the {} service: {} -> open; its requests are refused for {} ms", name_,
                     res::to_string(from), std::chrono::duration_cast<std::chrono::milliseconds>(breaker_.config().open_duration).count());
  } else {
    sales::log::info("circuit breaker for the {} service: {} -> {}", name_, res::to_string(from), res::to_string(to));
  }
}

Upstream::Upstream(UpstreamId id, const GatewayConfig& config, sales::metrics::Registry& registry,
                   sales::http::ByteBudget& answers)
    : id_(id),
      name_(name_of(id)),
      route_label_("/" + std::string(prefix_of(id)) + "/*"),
      endpoint_(sales::http::parse_base_url(config.upstream_urls[static_cast<std::size_t>(id)])),
      answers_(answers),
      breaker_(config.breaker, res::SteadyClock::instance(),
               [this](res::CircuitState from, res::CircuitState to) { on_transition(from, to); }),
      bulkhead_(config.bulkhead_max),
      budget_(config.budget) {
  auto counter = [&](const char* metric, const char* help, sales::metrics::Labels extra = {}) {
    sales::metrics::Labels labels{{"upstream", name_}};
    labels.insert(labels.end(), extra.begin(), extra.end());
    return &registry.counter(metric, help, labels);
  };
  metrics_.latency = &registry.histogram("gateway_upstream_latency_seconds", "Upstream attempt latency", {{"upstream", name_}});
  metrics_.ok = counter("gateway_upstream_attempts_total", "Upstream attempts by outcome", {{"outcome", "ok"}});
  metrics_.failed = counter("gateway_upstream_attempts_total", "Upstream attempts by outcome", {{"outcome", "failed"}});
  metrics_.dependency_unavailable =
      counter("gateway_upstream_attempts_total", "Upstream attempts by outcome", {{"outcome", "dependency_unavailable"}});
  metrics_.too_large = counter("gateway_upstream_attempts_total", "Upstream attempts by outcome", {{"outcome", "too_large"}});
  metrics_.retries = counter("gateway_retries_total", "Retries by result", {{"result", "attempted"}});
  metrics_.retries_refused_by_budget = counter("gateway_retries_total", "Retries by result", {{"result", "refused_by_budget"}});
  metrics_.retries_refused_by_breaker = counter("gateway_retries_total", "Retries by result", {{"result", "refused_by_breaker"}});
  metrics_.retries_client_left = counter("gateway_retries_total", "Retries by result", {{"result", "client_left"}});
  metrics_.rejected_circuit_open = counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "circuit_open"}});
  metrics_.rejected_bulkhead = counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "bulkhead_full"}});
  metrics_.dropped = counter("gateway_upstream_attempts_total", "Upstream attempts by outcome", {{"outcome", "dropped"}});
  metrics_.rejected_answers_full =
      counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "answers_full"}});
  // At 0 from the start, as the breaker callback's series: one born at 1 gives increase()
  // nothing, and an alert on the first opening would never fire.
  for (auto to : {res::CircuitState::Closed, res::CircuitState::Open, res::CircuitState::HalfOpen}) {
    transitions_[state_number(to)] = counter("gateway_circuit_transitions_total", "Circuit breaker transitions",
                                             {{"to", std::string(res::to_string(to))}});
  }
  registry.callback_gauge("gateway_circuit_state", "Breaker state: 0 closed, 1 open, 2 half-open",
                          [this] { return static_cast<double>(state_number(breaker_.state())); },
                          {{"upstream", name_}});
  registry.callback_gauge("gateway_bulkhead_in_flight", "Requests in flight to the upstream",
                          [this] { return static_cast<double>(bulkhead_.in_flight()); }, {{"upstream", name_}});
  registry.callback_gauge("gateway_retry_budget_retries", "Retries counted in the retry budget's window",
                          [this] { return static_cast<double>(budget_.snapshot().retries_in_window); },
                          {{"upstream", name_}});
  registry.callback_gauge("gateway_retry_budget_allowance", "Retries the retry budget's window allows now",
                          [this] { return static_cast<double>(budget_.snapshot().retry_allowance); },
                          {{"upstream", name_}});
}

sales::http::UpstreamPool& Upstream::pool(const boost::asio::any_io_executor& executor) {
  // One pool per (thread, upstream): every event loop has a thread of its own.
  thread_local std::array<std::unique_ptr<sales::http::UpstreamPool>, kUpstreamCount> pools;
  auto& p = pools[static_cast<std::size_t>(id_)];
  if (!p) {
    p = std::make_unique<sales::http::UpstreamPool>(executor, endpoint_, 256, kMaxUpstreamAnswerBytes);
    p->answers_held_in(answers_, kSmallAnswerBytes, answers_.limit() / 8);
  }
  return *p;
}

void Upstream::write_state(sales::json::Writer& w) {
  auto s = breaker_.snapshot();
  w.begin_object();
  w.field("state", res::to_string(s.state));
  w.field("window_calls", static_cast<std::int64_t>(s.window_calls));
  w.field("window_failures", static_cast<std::int64_t>(s.window_failures));
  w.field("successful_calls", static_cast<std::int64_t>(s.successful_calls));
  w.field("failed_calls", static_cast<std::int64_t>(s.failed_calls));
  w.field("slow_calls", static_cast<std::int64_t>(s.slow_calls));
  w.field("rejected_calls", static_cast<std::int64_t>(s.rejected_calls));
  w.field("transitions_to_open", static_cast<std::int64_t>(s.transitions_to_open));
  w.field("transitions_to_half_open", static_cast<std::int64_t>(s.transitions_to_half_open));
  w.field("transitions_to_closed", static_cast<std::int64_t>(s.transitions_to_closed));
  w.field("retry_after_ms",
          static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(s.retry_after).count()));
  w.field("bulkhead_in_flight", static_cast<std::int64_t>(bulkhead_.in_flight()));
  w.field("bulkhead_max", static_cast<std::int64_t>(bulkhead_.max_concurrent()));
  w.field("bulkhead_rejected", static_cast<std::int64_t>(bulkhead_.rejected()));
  auto budget = budget_.snapshot();
  w.field("retry_budget_requests", static_cast<std::int64_t>(budget.requests_in_window));
  w.field("retry_budget_retries", static_cast<std::int64_t>(budget.retries_in_window));
  w.field("retry_budget_allowance", static_cast<std::int64_t>(budget.retry_allowance));
  w.field("retry_budget_returned", static_cast<std::int64_t>(budget.retries_returned));
  w.end_object();
}

}  // namespace gateway

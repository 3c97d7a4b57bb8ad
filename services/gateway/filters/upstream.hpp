#pragma once
// Everything the gateway keeps per upstream: its breaker, bulkhead and retry budget (shared
// by all threads), its metrics, and one keep-alive connection pool per event-loop thread.
#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>

#include "domain/gateway_config.hpp"
#include "sales/http/upstream.hpp"
#include "sales/json/writer.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/resilience/bulkhead.hpp"
#include "sales/resilience/circuit_breaker.hpp"
#include "sales/resilience/retry_budget.hpp"

namespace gateway {

struct UpstreamMetrics {
  sales::metrics::Histogram* latency;
  sales::metrics::Counter* ok;           // answered with < 500
  sales::metrics::Counter* failed;       // 5xx, timeout or connection error
  sales::metrics::Counter* dependency_unavailable;  // a 503 naming a service it calls: not its own failure
  sales::metrics::Counter* too_large;    // answered past kMaxUpstreamAnswerBytes
  sales::metrics::Counter* dropped;      // answered, but past GATEWAY_ANSWERS_MAX_BYTES: dropped unread
  sales::metrics::Counter* retries;
  sales::metrics::Counter* retries_refused_by_budget;
  sales::metrics::Counter* retries_refused_by_breaker;  // granted, then the breaker opened: given back
  sales::metrics::Counter* retries_client_left;         // granted, then the client had gone: given back
  sales::metrics::Counter* rejected_circuit_open;
  sales::metrics::Counter* rejected_bulkhead;
  sales::metrics::Counter* rejected_answers_full;  // its answer would pass GATEWAY_ANSWERS_MAX_BYTES
};

class Upstream {
 public:
  // `answers`: the budget for answers held at once, shared by all upstreams (outlives this).
  Upstream(UpstreamId id, const GatewayConfig& config, sales::metrics::Registry& registry,
           sales::http::ByteBudget& answers);

  [[nodiscard]] std::string_view name() const { return name_; }
  [[nodiscard]] const std::string& route_label() const { return route_label_; }  // "/orders/*": the paths it serves, a bounded metrics label
  sales::resilience::CircuitBreaker& breaker() { return breaker_; }
  sales::resilience::Bulkhead& bulkhead() { return bulkhead_; }
  sales::resilience::RetryBudget& budget() { return budget_; }
  UpstreamMetrics& metrics() { return metrics_; }
  // The calling thread's pool (created on first use with that thread's executor).
  sales::http::UpstreamPool& pool(const boost::asio::any_io_executor& executor);
  void write_state(sales::json::Writer& w);  // for /gateway/circuit-breakers (a look moves a due OPEN on)

 private:
  void on_transition(sales::resilience::CircuitState from, sales::resilience::CircuitState to);
  UpstreamId id_;
  std::string name_;
  std::string route_label_;
  sales::http::Endpoint endpoint_;
  sales::http::ByteBudget& answers_;
  sales::resilience::CircuitBreaker breaker_;
  sales::resilience::Bulkhead bulkhead_;
  sales::resilience::RetryBudget budget_;
  UpstreamMetrics metrics_;
  // gateway_circuit_transitions_total by the state moved to (state_number's order).
  std::array<sales::metrics::Counter*, 3> transitions_{};
};

}  // namespace gateway

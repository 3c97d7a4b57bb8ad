#pragma once
// The gateway's settings, each from one environment variable (README "Gateway resilience").
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "domain/cors.hpp"
#include "domain/response_cache_config.hpp"
#include "domain/ip_range.hpp"
#include "domain/routes.hpp"
#include "sales/config/config.hpp"
#include "sales/resilience/circuit_breaker.hpp"
#include "sales/resilience/rate_limiter.hpp"
#include "sales/resilience/retry.hpp"
#include "sales/resilience/retry_budget.hpp"

namespace gateway {

// The largest answer passed on. Every valid answer fits: the largest is a page of 500
// products whose 200-character names and 4,000-character descriptions are control
// characters, each written as a 6-byte \u00XX escape, about 12.7 MB. (8 MiB, the pool's
// default, refused it.)
inline constexpr std::size_t kMaxUpstreamAnswerBytes = 16 << 20;
// Answers up to this size may use the last eighth of GATEWAY_ANSWERS_MAX_BYTES, which larger
// ones leave free (UpstreamPool::answers_held_in): a single resource or a POST's answer is a
// few KB; list pages are larger.
inline constexpr std::size_t kSmallAnswerBytes = 64 << 10;

struct GatewayConfig {
  std::chrono::milliseconds timeout{5000};         // GATEWAY_TIMEOUT_MS: all attempts of one request
  sales::resilience::RetryPolicy retry;              // GATEWAY_RETRY_MAX, GATEWAY_RETRY_BASE_MS
  sales::resilience::RetryBudgetConfig budget;       // GATEWAY_RETRY_BUDGET_PERCENT
  sales::resilience::CircuitBreakerConfig breaker;   // GATEWAY_CB_*
  sales::resilience::RateLimiterConfig rate_limit;   // GATEWAY_RATE_LIMIT_MAX, _WINDOW_MS
  bool rate_limit_enabled = true;                    // GATEWAY_RATE_LIMIT_MAX=0 turns it off
  IpRanges trusted_proxies;                          // GATEWAY_TRUSTED_PROXIES: empty trusts nobody
  IpRanges admin_sources;                            // GATEWAY_ADMIN_SOURCES: empty lets anyone read /metrics, /gateway/...
  std::size_t bulkhead_max = 256;                    // GATEWAY_BULKHEAD_MAX, per upstream
  std::size_t max_connections_per_client = 1024;     // GATEWAY_MAX_CONNECTIONS_PER_CLIENT: 0 is no cap
  std::size_t answers_max_bytes = 64 << 20;          // GATEWAY_ANSWERS_MAX_BYTES: upstream answers held at once
  ResponseCacheConfig cache;                         // GATEWAY_CACHE_*
  CorsPolicy cors;                                   // GATEWAY_CORS_ALLOWED_ORIGINS: empty is off
  std::array<std::string, kUpstreamCount> upstream_urls;  // PRODUCT_SERVICE_URL ...
};

// Reads and validates; errors are collected in env (env.finish() reports them).
GatewayConfig read_gateway_config(sales::config::Env& env);

// An attempt gets at most this share of the deadline, so that after one attempt timed out
// there is still time for a retry (DESIGN §5: retry on "timeouts of one attempt").
std::chrono::milliseconds attempt_timeout(const GatewayConfig& c);

// The GATEWAY_ variables set that the gateway has no setting of, once every setting was
// read: most likely misspelt (GATEWAY_TIMOUT_MS), warned of at start. Not those Kubernetes
// service links write for a Service named gateway (GATEWAY_SERVICE_HOST, GATEWAY_PORT_...),
// where a cluster's pods have them.
std::vector<std::string> misspelt_settings(const sales::config::Env& env);

}  // namespace gateway

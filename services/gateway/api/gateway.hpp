#pragma once
// The gateway's request path: CORS (when configured) → route → client address → rate
// limit → response cache → bulkhead (once per request) → attempts, each let through by the
// circuit breaker, with retries (bounded by the retry budget and the request's deadline) →
// response.
// Its own endpoints (/health, /metrics, /gateway/...) are served here too; the operator's,
// /metrics and /gateway/..., only to GATEWAY_ADMIN_SOURCES when it is set.
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "domain/gateway_config.hpp"
#include "filters/response_cache.hpp"
#include "filters/upstream.hpp"
#include "sales/http/message.hpp"
#include "sales/http/router.hpp"
#include "sales/resilience/rate_limiter.hpp"

namespace gateway {

class Gateway {
 public:
  Gateway(GatewayConfig config, sales::metrics::Registry& registry, sales::http::Router& own_routes);

  boost::asio::awaitable<sales::http::Response> handle(sales::http::Request& req);
  // Whether GATEWAY_CORS_ALLOWED_ORIGINS is set; then the server calls add_cors_fields on
  // every answer it writes, its own refusals included.
  [[nodiscard]] bool cross_origin() const { return config_.cors.enabled(); }
  void add_cors_fields(const sales::http::Request& req, sales::http::Response& res) const;

 private:
  // handle() for a CORS preflight, and for every other request.
  boost::asio::awaitable<sales::http::Response> preflight(sales::http::Request& req);
  boost::asio::awaitable<sales::http::Response> serve(sales::http::Request& req);
  // peer_trusted: the peer is a trusted proxy, whose X-Forwarded-For is appended to.
  boost::asio::awaitable<sales::http::Response> proxy(sales::http::Request& req, Upstream& upstream, bool peer_trusted);
  struct HealthProbes {
    explicit HealthProbes(const boost::asio::any_io_executor& ex) : all_done(ex) {}
    std::array<bool, kUpstreamCount> ready{};
    std::size_t pending = kUpstreamCount;
    boost::asio::steady_timer all_done;
  };
  // One round of probes: every upstream's /health/ready at once. Requests for /health that
  // arrive while one runs on their loop thread wait for it and share its answer.
  struct HealthRound {
    explicit HealthRound(const boost::asio::any_io_executor& ex) : done(ex, boost::asio::steady_timer::time_point::max()) {}
    std::optional<sales::http::Response> answer;
    boost::asio::steady_timer done;  // cancelled when the answer is in
  };
  boost::asio::awaitable<sales::http::Response> health();
  boost::asio::awaitable<sales::http::Response> probe_all();
  boost::asio::awaitable<void> probe(Upstream& upstream, std::shared_ptr<HealthProbes> probes, std::size_t index);
  sales::http::Response circuit_breakers() const;
  void add_rate_limit_headers(const sales::resilience::RateLimitDecision& decision, sales::http::Headers& out) const;

  const GatewayConfig config_;  // read by every loop thread (and the server's CORS hook): never changed
  sales::metrics::Registry& registry_;
  sales::http::Router& own_routes_;
  sales::resilience::RateLimiter limiter_;
  ResponseCache cache_;
  std::string rate_limit_policy_;  // RateLimit-Policy: fixed by the configuration
  sales::http::ByteBudget answers_;  // every upstream's answers held at once (the pools count them)
  std::array<std::unique_ptr<Upstream>, kUpstreamCount> upstreams_;
  sales::metrics::Counter* rejected_rate_limit_;
  sales::metrics::Counter* rejected_deadline_;
  sales::metrics::Counter* rejected_cors_origin_;
  sales::metrics::Counter* rejected_admin_source_;
  sales::metrics::Counter* forwarded_for_malformed_;
  // The round of /health probes running on each loop thread, if any. /health is answered
  // before the rate limiter: without this, each request sent six probes, each a database
  // ping in a service, so a flood of them was multiplied onto every database.
  std::mutex health_mu_;
  std::unordered_map<std::thread::id, std::shared_ptr<HealthRound>> health_rounds_;
};

}  // namespace gateway

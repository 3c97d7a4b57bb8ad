#include "domain/gateway_config.hpp"

#include <algorithm>

#include "sales/http/client.hpp"
#include "sales/text/ascii.hpp"

namespace gateway {

namespace {
// A comma-separated list setting, empty by default, parsed by List::parse (IpRanges,
// CorsPolicy); an invalid entry is an error naming the variable and the entry, and leaves
// the empty list.
template <typename List>
List read_list(sales::config::Env& env, const std::string& var) {
  auto list = env.str(var, "");
  // Only commas and blanks (`${PROM_CIDR},` with the variable unset) looks set but lists
  // nothing, which for GATEWAY_ADMIN_SOURCES means anyone: a mistake, not a choice.
  if (!list.empty() && list.find_first_not_of(", \t") == std::string::npos) {
    env.invalid(var + "='" + list + "' lists nothing; unset it for the default");
    return {};
  }
  try {
    return List::parse(list);
  } catch (const std::invalid_argument& e) {
    env.invalid(var + "='" + list + "': " + e.what());
    return {};
  }
}
}  // namespace

GatewayConfig read_gateway_config(sales::config::Env& env) {
  GatewayConfig c;
  c.timeout = env.millis("GATEWAY_TIMEOUT_MS", 5000, 10, 600'000);
  c.retry.max_retries = static_cast<int>(env.integer("GATEWAY_RETRY_MAX", 3, 0, 10));
  c.retry.base = env.millis("GATEWAY_RETRY_BASE_MS", 100, 1, 60'000);
  c.retry.max_backoff = std::max(c.retry.base * 8, std::chrono::milliseconds(1000));
  c.budget.budget_percent = static_cast<double>(env.integer("GATEWAY_RETRY_BUDGET_PERCENT", 20, 0, 100));
  c.budget.min_retries_per_second =
      static_cast<double>(env.integer("GATEWAY_RETRY_BUDGET_MIN_PER_SECOND", 3, 0, 100'000));
  c.breaker.window_size = static_cast<std::size_t>(env.integer("GATEWAY_CB_WINDOW", 20, 1, 100'000));
  c.breaker.minimum_calls = static_cast<std::size_t>(env.integer("GATEWAY_CB_MIN_CALLS", 10, 1, 100'000));
  c.breaker.failure_rate_percent = static_cast<double>(env.integer("GATEWAY_CB_FAILURE_RATE", 50, 1, 100));
  c.breaker.open_duration = env.millis("GATEWAY_CB_OPEN_MS", 10'000, 10, 86'400'000);
  c.breaker.half_open_calls = static_cast<std::size_t>(env.integer("GATEWAY_CB_HALF_OPEN_CALLS", 3, 1, 10'000));
  // Generous by default: a million requests per second per client never trips the web page
  // or the benchmarks (one client answered from the response cache passes 130k/s on two
  // cores, which 100k/s turned into 429s); the seed's policy is
  // GATEWAY_RATE_LIMIT_MAX=100 GATEWAY_RATE_LIMIT_WINDOW_MS=900000.
  auto max = env.integer("GATEWAY_RATE_LIMIT_MAX", 1'000'000, 0, 1'000'000'000);
  c.rate_limit_enabled = max > 0;
  c.rate_limit.max = static_cast<std::uint64_t>(std::max<std::int64_t>(max, 1));
  c.rate_limit.window = env.millis("GATEWAY_RATE_LIMIT_WINDOW_MS", 1000, 1, 86'400'000);
  // The limiter counts in clock ticks (nanoseconds): a token needs at least one.
  if (std::chrono::duration_cast<std::chrono::nanoseconds>(c.rate_limit.window).count() < max) {
    env.invalid("GATEWAY_RATE_LIMIT_MAX=" + std::to_string(max) + " is more than one request per nanosecond of "
                "GATEWAY_RATE_LIMIT_WINDOW_MS=" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(c.rate_limit.window).count()));
  }
  c.trusted_proxies = read_list<IpRanges>(env, "GATEWAY_TRUSTED_PROXIES");
  c.admin_sources = read_list<IpRanges>(env, "GATEWAY_ADMIN_SOURCES");
  c.cors = read_list<CorsPolicy>(env, "GATEWAY_CORS_ALLOWED_ORIGINS");
  c.bulkhead_max = static_cast<std::size_t>(env.integer("GATEWAY_BULKHEAD_MAX", 256, 1, 100'000));
  // A quarter of the server's 4096 places: one address (a host, an IPv6 /64) cannot take
  // them all with idle or slow connections, which the rate limiter, counting requests, lets
  // through. Trusted proxies are not counted.
  c.max_connections_per_client =
      static_cast<std::size_t>(env.integer("GATEWAY_MAX_CONNECTIONS_PER_CLIENT", 1024, 0, 1'000'000));
  // All upstreams' answers together, as their bytes arrive; at least one answer of the largest size.
  c.answers_max_bytes = static_cast<std::size_t>(env.integer(
      "GATEWAY_ANSWERS_MAX_BYTES", 64 << 20, static_cast<std::int64_t>(kMaxUpstreamAnswerBytes), std::int64_t{16} << 30));
  c.cache.max_entries = static_cast<std::size_t>(env.integer("GATEWAY_CACHE_MAX_ENTRIES", 10'000, 0, 10'000'000));
  c.cache.max_bytes = static_cast<std::size_t>(env.integer("GATEWAY_CACHE_MAX_BYTES", 8 << 20, 0, std::int64_t{16} << 30));
  c.cache.max_ttl = env.millis("GATEWAY_CACHE_MAX_TTL_MS", 500, 1, 86'400'000);
  env.integer("GATEWAY_MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20);  // validated here, applied by the server
  for (auto id : kAllUpstreams) {
    std::string name(name_of(id));
    std::string var = sales::text::to_upper(name) + "_SERVICE_URL";
    constexpr int kFirstPort = 8001;  // upstreams listen on 8001..8006 in kAllUpstreams order
    auto url = env.str(var, "http://127.0.0.1:" + std::to_string(kFirstPort + static_cast<int>(id)));
    try {
      sales::http::parse_base_url(url);
    } catch (const std::invalid_argument& e) {
      env.invalid(var + ": " + e.what());
    }
    c.upstream_urls[static_cast<std::size_t>(id)] = url;
  }
  if (c.breaker.minimum_calls > c.breaker.window_size) c.breaker.minimum_calls = c.breaker.window_size;
  return c;
}

std::vector<std::string> misspelt_settings(const sales::config::Env& env) {
  auto names = env.unread("GATEWAY_");
  std::erase_if(names, [](const std::string& n) { return n.starts_with("GATEWAY_SERVICE_") || n.starts_with("GATEWAY_PORT"); });
  return names;
}

std::chrono::milliseconds attempt_timeout(const GatewayConfig& c) {
  // No retry can follow: none allowed, or a budget of nothing.
  if (c.retry.max_retries == 0 || (c.budget.budget_percent == 0 && c.budget.min_retries_per_second == 0)) return c.timeout;
  return std::max(c.timeout / 2, std::chrono::milliseconds(1));
}

}  // namespace gateway

#pragma once
// A token bucket per client key (IP, later user), DESIGN.md §5: each bucket holds up to `max`
// tokens and refills `max` tokens per `window`, continuously; a request takes one token or is
// refused (429). The seed's policy, 100 requests per 15 minutes, is {100, 900000 ms}.
//
// A bucket is stored as the single instant at which it will be full again (GCRA's
// "theoretical arrival time"): no floating point, no refill loop, and a bucket whose instant
// has passed is indistinguishable from a new one, so it can be dropped without losing state.
//
// The key table is bounded by max_keys, so a flood of distinct keys cannot exhaust memory.
// Keys are kept in least-recently-used order: each check drops a few full buckets from the
// cold end, and a new key in a full table evicts a full bucket found near the cold end or,
// failing that, the least recently used one. Every check does bounded work.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sales/resilience/clock.hpp"

namespace sales::resilience {

struct RateLimiterConfig {
  std::uint64_t max = 100;  // bucket capacity, and tokens refilled per window
  Duration window = std::chrono::milliseconds(900'000);
  std::size_t max_keys = 100'000;
};

struct RateLimitDecision {
  bool allowed = false;
  std::uint64_t limit = 0;               // the configured max
  std::uint64_t remaining = 0;           // whole tokens left after this request
  std::int64_t reset_seconds = 0;        // until the bucket is full again (rounded up)
  std::int64_t retry_after_seconds = 0;  // when refused: until one token is back, >= 1
};

struct RateLimiterSnapshot {
  std::size_t keys = 0;
  std::uint64_t allowed = 0;
  std::uint64_t refused = 0;
  std::uint64_t evicted_idle = 0;    // full buckets dropped: no information lost
  std::uint64_t evicted_active = 0;  // partly used buckets dropped to respect max_keys
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterConfig config = {}, const Clock& clock = SteadyClock::instance());
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  [[nodiscard]] RateLimitDecision check(std::string_view key);

  RateLimiterSnapshot snapshot() const;
  const RateLimiterConfig& config() const { return config_; }

 private:
  using LruList = std::list<std::string_view>;  // views of the map's keys, coldest first
  struct Bucket {
    TimePoint full_at;
    LruList::iterator lru_position;
  };
  struct KeyHash {
    using is_transparent = void;  // look up by string_view without building a std::string
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  using Table = std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>>;

  Bucket& bucket_for(std::string_view key, TimePoint now);
  void make_room(TimePoint now);
  void drop_idle_from_cold_end(TimePoint now, std::size_t at_most);
  void erase(LruList::iterator position);

  const RateLimiterConfig config_;
  const Clock& clock_;
  const Duration token_interval_;  // time to refill one token: window / max
  const Duration capacity_span_;   // token_interval_ * max: time to refill an empty bucket

  mutable std::mutex mutex_;
  Table table_;
  LruList lru_;
  RateLimiterSnapshot counters_;  // keys is filled in by snapshot()
};

// IETF RateLimit header fields, draft-ietf-httpapi-ratelimit-headers-08 style. The gateway
// writes them on every answer (Gateway::add_rate_limit_headers): RateLimit-Policy and
// RateLimit, and Retry-After when the request was refused.
inline constexpr std::string_view kRateLimitPolicyHeader = "RateLimit-Policy";
inline constexpr std::string_view kRateLimitHeader = "RateLimit";
inline constexpr std::string_view kRetryAfterHeader = "Retry-After";

// `"default";q=100;w=900`: quota and window (whole seconds, rounded up).
std::string rate_limit_policy_value(const RateLimiterConfig& config, std::string_view policy = "default");
// `"default";r=99;t=9`: remaining tokens and seconds until the bucket is full.
std::string rate_limit_value(const RateLimitDecision& decision, std::string_view policy = "default");

}  // namespace sales::resilience

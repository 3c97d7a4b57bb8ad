#include "sales/resilience/rate_limiter.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace sales::resilience {

namespace {

// How far from the cold end a new key looks for a full bucket before evicting a used one:
// enough to usually find one, few enough that a flood of new keys costs constant work each.
constexpr std::size_t kEvictionScan = 16;
// Full buckets dropped from the cold end per check, so the table shrinks after a burst.
constexpr std::size_t kIdleDropsPerCheck = 2;

const RateLimiterConfig& validated(const RateLimiterConfig& config) {
  if (config.max == 0 || config.max_keys == 0) {
    throw std::invalid_argument("rate limiter: max and max_keys must be positive");
  }
  if (config.window <= Duration::zero() ||
      config.window / static_cast<Duration::rep>(config.max) <= Duration::zero()) {
    throw std::invalid_argument(
        "rate limiter: window must be positive and at least one clock tick per token");
  }
  return config;
}

std::int64_t ceil_seconds(Duration span) { return std::chrono::ceil<std::chrono::seconds>(span).count(); }

}  // namespace

RateLimiter::RateLimiter(RateLimiterConfig config, const Clock& clock)
    : config_(validated(config)),
      clock_(clock),
      token_interval_(config_.window / static_cast<Duration::rep>(config_.max)),
      capacity_span_(token_interval_ * static_cast<Duration::rep>(config_.max)) {}

RateLimitDecision RateLimiter::check(std::string_view key) {
  std::lock_guard lock(mutex_);
  const TimePoint now = clock_.now();
  Bucket& bucket = bucket_for(key, now);

  // debt: how long until the bucket is full; each token spent adds token_interval_ to it.
  const Duration debt = std::max(Duration::zero(), bucket.full_at - now);
  RateLimitDecision decision;
  decision.limit = config_.max;
  if (debt + token_interval_ <= capacity_span_) {
    const Duration new_debt = debt + token_interval_;
    bucket.full_at = now + new_debt;
    decision.allowed = true;
    decision.remaining = static_cast<std::uint64_t>((capacity_span_ - new_debt) / token_interval_);
    decision.reset_seconds = ceil_seconds(new_debt);
    ++counters_.allowed;
  } else {
    decision.reset_seconds = ceil_seconds(debt);
    decision.retry_after_seconds = whole_seconds_at_least_one(debt + token_interval_ - capacity_span_);
    ++counters_.refused;
  }
  drop_idle_from_cold_end(now, kIdleDropsPerCheck);
  return decision;
}

RateLimiter::Bucket& RateLimiter::bucket_for(std::string_view key, TimePoint now) {
  if (auto found = table_.find(key); found != table_.end()) {
    lru_.splice(lru_.end(), lru_, found->second.lru_position);  // now the hottest key
    return found->second;
  }
  if (table_.size() >= config_.max_keys) make_room(now);
  const auto inserted = table_.try_emplace(std::string(key), Bucket{now, {}}).first;  // a new bucket is full
  try {
    lru_.push_back(inserted->first);  // views the node's key, which never moves
  } catch (...) {
    table_.erase(inserted);
    throw;
  }
  inserted->second.lru_position = std::prev(lru_.end());
  return inserted->second;
}

void RateLimiter::make_room(TimePoint now) {
  auto candidate = lru_.begin();
  for (std::size_t scanned = 0; scanned < kEvictionScan && candidate != lru_.end(); ++scanned, ++candidate) {
    if (table_.find(*candidate)->second.full_at <= now) {
      erase(candidate);
      ++counters_.evicted_idle;
      return;
    }
  }
  erase(lru_.begin());
  ++counters_.evicted_active;
}

void RateLimiter::drop_idle_from_cold_end(TimePoint now, std::size_t at_most) {
  for (std::size_t dropped = 0; dropped < at_most && !lru_.empty(); ++dropped) {
    if (table_.find(lru_.front())->second.full_at > now) return;
    erase(lru_.begin());
    ++counters_.evicted_idle;
  }
}

void RateLimiter::erase(LruList::iterator position) {
  const auto entry = table_.find(*position);  // before the view's target goes away
  lru_.erase(position);
  table_.erase(entry);
}

RateLimiterSnapshot RateLimiter::snapshot() const {
  std::lock_guard lock(mutex_);
  RateLimiterSnapshot snapshot = counters_;
  snapshot.keys = table_.size();
  return snapshot;
}

namespace {
// `"<policy>";<k1>=<v1>;<k2>=<v2>`, sized first and then copied into place: the gateway
// writes one on every answer.
std::string policy_fields(std::string_view policy, std::string_view k1, std::uint64_t v1, std::string_view k2,
                          std::uint64_t v2) {
  char d1[24], d2[24];
  const std::string_view digits1(d1, static_cast<std::size_t>(std::to_chars(d1, d1 + sizeof d1, v1).ptr - d1));
  const std::string_view digits2(d2, static_cast<std::size_t>(std::to_chars(d2, d2 + sizeof d2, v2).ptr - d2));
  std::string value(policy.size() + 2 + k1.size() + digits1.size() + k2.size() + digits2.size(), '"');
  char* at = value.data() + 1;  // after the opening quote
  for (std::string_view part : {policy, std::string_view("\""), k1, digits1, k2, digits2}) {
    if (part.empty()) continue;  // a default-constructed view's data may be null
    std::memcpy(at, part.data(), part.size());
    at += part.size();
  }
  return value;
}
}  // namespace

std::string rate_limit_policy_value(const RateLimiterConfig& config, std::string_view policy) {
  return policy_fields(policy, ";q=", config.max, ";w=", static_cast<std::uint64_t>(ceil_seconds(config.window)));
}

std::string rate_limit_value(const RateLimitDecision& decision, std::string_view policy) {
  return policy_fields(policy, ";r=", decision.remaining, ";t=", static_cast<std::uint64_t>(decision.reset_seconds));
}

}  // namespace sales::resilience

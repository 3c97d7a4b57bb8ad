#include "sales/resilience/retry.hpp"

#include <algorithm>

namespace sales::resilience {

namespace {

// min(max_backoff, base * 2^retries_done) without overflowing for large retries_done.
Duration backoff_ceiling(Duration base, Duration max_backoff, int retries_done) {
  if (base <= Duration::zero() || max_backoff <= Duration::zero()) return Duration::zero();
  Duration ceiling = std::min(base, max_backoff);
  for (int i = 0; i < retries_done && ceiling < max_backoff; ++i) {
    if (ceiling > max_backoff / 2) return max_backoff;
    ceiling *= 2;  // stays <= max_backoff: checked just above
  }
  return ceiling;
}

}  // namespace

Duration RetryPolicy::backoff(int retries_done, RetryRng& rng) const {
  const Duration ceiling = backoff_ceiling(base, max_backoff, std::max(0, retries_done));
  const auto span = static_cast<std::uint64_t>(ceiling.count());
  // Modulo instead of std::uniform_int_distribution: its output differs between standard
  // libraries, and a seeded test should see the same delays everywhere. The bias is at most
  // span / 2^64, far below anything observable.
  // span fits in 63 bits (Duration is signed), so span + 1 cannot wrap.
  const std::uint64_t draw = rng() % (span + 1);
  return Duration{static_cast<Duration::rep>(draw)};
}

RetryDecision RetryPolicy::next_attempt(int retries_done, TimePoint now, TimePoint deadline, RetryRng& rng,
                                        Duration min_attempt_time) const {
  if (retries_done >= max_retries) return {RetryVerdict::RetriesExhausted, Duration::zero()};
  const Duration delay = backoff(retries_done, rng);
  if (!fits_before_deadline(now + delay, deadline, min_attempt_time)) {
    return {RetryVerdict::PastDeadline, Duration::zero()};
  }
  return {RetryVerdict::Retry, delay};
}

bool retryable_method(std::string_view method, bool has_idempotency_key) {
  if (method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS") {
    return true;
  }
  return has_idempotency_key && (method == "POST" || method == "PATCH");
}

bool retryable_status(int status) { return status == 502 || status == 503 || status == 504; }

bool fits_before_deadline(TimePoint attempt_start, TimePoint deadline, Duration min_attempt_time) {
  return attempt_start < deadline && deadline - attempt_start >= min_attempt_time;
}

}  // namespace sales::resilience

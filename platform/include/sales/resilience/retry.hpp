#pragma once
// When and how soon the gateway may try an upstream call again (DESIGN.md §5): only
// idempotent requests, only on 502/503/504 (or a connection error / attempt timeout, which
// the caller knows), with exponential backoff and full jitter, and never past the request's
// deadline. Stateless: the retry budget (retry_budget.hpp) counts and limits retries.
#include <chrono>
#include <cstdint>
#include <random>
#include <string_view>

#include "sales/resilience/clock.hpp"

namespace sales::resilience {

// Seeded in tests for determinism. Not thread-safe: give each thread its own (thread_local).
using RetryRng = std::mt19937_64;

enum class RetryVerdict { Retry, RetriesExhausted, PastDeadline };

struct RetryDecision {
  RetryVerdict verdict = RetryVerdict::RetriesExhausted;
  Duration delay{0};  // wait this long before the next attempt; zero unless Retry

  explicit operator bool() const { return verdict == RetryVerdict::Retry; }
};

struct RetryPolicy {
  int max_retries = 3;  // attempts after the first one
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds max_backoff{2000};

  // Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): uniform in
  // [0, min(max_backoff, base * 2^retries_done)], so clients that failed together spread out
  // instead of retrying in lockstep. retries_done is 0 before the first retry.
  [[nodiscard]] Duration backoff(int retries_done, RetryRng& rng) const;

  // The whole decision once an attempt failed in a retryable way: refuses when max_retries
  // are used up, or when the next attempt could not start with at least min_attempt_time
  // left before the deadline (an attempt with no time to run only adds load).
  [[nodiscard]] RetryDecision next_attempt(int retries_done, TimePoint now, TimePoint deadline, RetryRng& rng,
                                           Duration min_attempt_time = Duration::zero()) const;
};

// Whether repeating the request is safe: methods idempotent by RFC 9110, or POST/PATCH that
// carry an Idempotency-Key the upstream deduplicates on. Methods are case-sensitive.
bool retryable_method(std::string_view method, bool has_idempotency_key);

// Statuses that mean "this attempt did not reach a working upstream": 502, 503, 504.
bool retryable_status(int status);

// True when an attempt starting at attempt_start still has min_attempt_time before deadline.
bool fits_before_deadline(TimePoint attempt_start, TimePoint deadline,
                          Duration min_attempt_time = Duration::zero());

}  // namespace sales::resilience

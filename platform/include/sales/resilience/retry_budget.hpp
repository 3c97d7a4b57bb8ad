#pragma once
// Keeps retries a bounded share of traffic, so retries cannot multiply an outage (Envoy's
// retry budget, DESIGN.md §5). Over a sliding time window, a retry is granted while the
// retries granted stay within budget_percent of the requests seen, or within a small floor
// (min_retries_per_second) so that a quiet upstream with one failing request can still retry.
//
// The window is a ring of time buckets: memory and work per call are fixed, and old traffic
// leaves the window a bucket at a time rather than all at once.
//
// record_request, once per proxied request, takes no lock: each bucket's request count shares
// one atomic word with the lap of the ring it counts, so moving a bucket to a new slice of
// time and counting in it is one compare-and-swap. Retries are rare and granted under a lock,
// so two threads never both take the last retry of the allowance.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "sales/resilience/clock.hpp"

namespace sales::resilience {

struct RetryBudgetConfig {
  double budget_percent = 20.0;         // retries may be at most this share of requests
  double min_retries_per_second = 3.0;  // floor, scaled by the window: 30 per 10 s
  Duration window = std::chrono::seconds(10);
  std::size_t buckets = 10;
};

struct RetryBudgetSnapshot {
  std::uint64_t requests_in_window = 0;
  std::uint64_t retries_in_window = 0;
  std::uint64_t retry_allowance = 0;    // retries the window allows right now
  std::uint64_t retries_attempted = 0;  // totals since construction
  std::uint64_t retries_granted = 0;
  std::uint64_t retries_refused = 0;
  std::uint64_t retries_returned = 0;   // granted, then given back unsent
};

// A granted retry: which slice of time it counts in. False when refused.
struct RetryGrant {
  std::int64_t epoch = -1;
  explicit operator bool() const { return epoch >= 0; }
};

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetConfig config = {}, const Clock& clock = SteadyClock::instance());

  // Once per client request, not per attempt: retries are measured against real demand.
  void record_request();

  // Asks to make one retry; a granted retry counts against the budget at once.
  [[nodiscard]] RetryGrant try_acquire_retry();

  // A granted retry that was never sent (the circuit breaker refused it after the backoff,
  // or the client had gone by then) stops counting, so refusals do not use up the retries of requests that could go. One
  // whose slice of time has left the window counts no more anyway.
  void give_back(RetryGrant grant);

  // Whether a retry was refused in this bucket of time or the one before: a request then
  // expects no retry, and its one attempt may take its whole deadline. No lock: read on
  // every request.
  [[nodiscard]] bool refused_lately() const;

  RetryBudgetSnapshot snapshot() const;
  const RetryBudgetConfig& config() const { return config_; }

 private:
  struct Bucket {  // retries, under mutex_
    std::int64_t epoch = -1;  // which bucket-width slice of time it counts
    std::uint64_t retries = 0;
  };
  struct Totals {
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
  };

  std::int64_t epoch_at(TimePoint now) const;
  Bucket& bucket_for(std::int64_t epoch);
  // A request word: the ring's lap (epoch / buckets + 1, modulo 2^32) above, the count below.
  std::uint32_t lap_tag(std::int64_t epoch) const;
  Totals window_totals(std::int64_t epoch) const;
  std::uint64_t allowance(std::uint64_t requests) const;

  const RetryBudgetConfig config_;
  const Clock& clock_;
  const TimePoint origin_;
  const Duration bucket_width_;
  const std::uint64_t floor_retries_;

  std::vector<std::atomic<std::uint64_t>> requests_;  // per bucket: lap tag << 32 | count
  std::atomic<std::int64_t> last_refusal_epoch_{-2};   // the bucket of the latest refusal

  mutable std::mutex mutex_;
  std::vector<Bucket> buckets_;
  std::uint64_t attempted_ = 0;
  std::uint64_t granted_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t returned_ = 0;
};

}  // namespace sales::resilience

#include "sales/resilience/retry_budget.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sales::resilience {

namespace {

const RetryBudgetConfig& validated(const RetryBudgetConfig& config) {
  if (config.buckets == 0 || config.window < Duration{static_cast<Duration::rep>(config.buckets)}) {
    throw std::invalid_argument(
        "retry budget: need at least one bucket and a window of at least one tick per bucket");
  }
  if (!(config.budget_percent >= 0.0) || !(config.min_retries_per_second >= 0.0)) {
    throw std::invalid_argument(
        "retry budget: budget_percent and min_retries_per_second must not be negative");
  }
  return config;
}

}  // namespace

RetryBudget::RetryBudget(RetryBudgetConfig config, const Clock& clock)
    : config_(validated(config)),
      clock_(clock),
      origin_(clock.now()),
      bucket_width_(config_.window / static_cast<Duration::rep>(config_.buckets)),
      floor_retries_(static_cast<std::uint64_t>(std::floor(
          config_.min_retries_per_second * std::chrono::duration<double>(config_.window).count()))),
      requests_(config_.buckets),
      buckets_(config_.buckets) {}

std::int64_t RetryBudget::epoch_at(TimePoint now) const {
  // A clock set back before construction (only a FakeClock can) counts as the first bucket.
  return std::max<std::int64_t>(0, (now - origin_) / bucket_width_);
}

RetryBudget::Bucket& RetryBudget::bucket_for(std::int64_t epoch) {
  Bucket& bucket = buckets_[static_cast<std::size_t>(epoch) % buckets_.size()];
  if (bucket.epoch != epoch) bucket = Bucket{epoch, 0};  // its slice of time has left the window
  return bucket;
}

std::uint32_t RetryBudget::lap_tag(std::int64_t epoch) const {
  // + 1: a word never written (0) belongs to no lap. A tag repeats after 2^32 laps of the
  // ring (about 1,360 years with the default 1 s buckets).
  return static_cast<std::uint32_t>(epoch / static_cast<std::int64_t>(buckets_.size()) + 1);
}

RetryBudget::Totals RetryBudget::window_totals(std::int64_t epoch) const {
  const auto oldest = epoch - static_cast<std::int64_t>(buckets_.size()) + 1;
  Totals totals;
  for (const Bucket& bucket : buckets_) {
    if (bucket.epoch >= oldest && bucket.epoch <= epoch) totals.retries += bucket.retries;
  }
  // Bucket i holds the one epoch of the window that is i modulo the ring's size, if any.
  for (std::int64_t e = std::max<std::int64_t>(0, oldest); e <= epoch; ++e) {
    const std::uint64_t word = requests_[static_cast<std::size_t>(e) % requests_.size()].load(std::memory_order_relaxed);
    if (word >> 32 == lap_tag(e)) totals.requests += word & 0xFFFF'FFFFu;
  }
  return totals;
}

std::uint64_t RetryBudget::allowance(std::uint64_t requests) const {
  const auto share =
      static_cast<std::uint64_t>(std::floor(static_cast<double>(requests) * config_.budget_percent / 100.0));
  return std::max(share, floor_retries_);
}

void RetryBudget::record_request() {
  const std::int64_t epoch = epoch_at(clock_.now());
  const std::uint64_t tag = lap_tag(epoch);
  std::atomic<std::uint64_t>& slot = requests_[static_cast<std::size_t>(epoch) % requests_.size()];
  std::uint64_t word = slot.load(std::memory_order_relaxed);
  for (;;) {
    const auto held = static_cast<std::uint32_t>(word >> 32);
    std::uint64_t next = 0;
    if (held == tag) {
      if ((word & 0xFFFF'FFFFu) == 0xFFFF'FFFFu) return;  // 4 billion in one bucket: saturated
      next = word + 1;
    } else if (held == 0 || static_cast<std::int32_t>(static_cast<std::uint32_t>(tag) - held) > 0) {
      next = tag << 32 | 1;  // its slice of time has left the window: start it afresh
    } else {
      return;  // a lap behind (a clock read before another thread moved on): already outside the window
    }
    if (slot.compare_exchange_weak(word, next, std::memory_order_relaxed)) return;
  }
}

RetryGrant RetryBudget::try_acquire_retry() {
  std::lock_guard lock(mutex_);
  ++attempted_;
  const std::int64_t epoch = epoch_at(clock_.now());
  const Totals totals = window_totals(epoch);
  if (totals.retries + 1 > allowance(totals.requests)) {
    ++refused_;
    last_refusal_epoch_.store(epoch, std::memory_order_relaxed);
    return {};
  }
  ++bucket_for(epoch).retries;
  ++granted_;
  return RetryGrant{epoch};
}

bool RetryBudget::refused_lately() const {
  return last_refusal_epoch_.load(std::memory_order_relaxed) >= epoch_at(clock_.now()) - 1;
}

void RetryBudget::give_back(RetryGrant grant) {
  if (!grant) return;
  std::lock_guard lock(mutex_);
  // Out of the window (its bucket may even count another slice of time now): it counts no
  // more, there is nothing to give back.
  if (epoch_at(clock_.now()) - grant.epoch >= static_cast<std::int64_t>(buckets_.size())) return;
  Bucket& bucket = buckets_[static_cast<std::size_t>(grant.epoch) % buckets_.size()];
  if (bucket.epoch != grant.epoch || bucket.retries == 0) return;
  --bucket.retries;
  ++returned_;
}

RetryBudgetSnapshot RetryBudget::snapshot() const {
  std::lock_guard lock(mutex_);
  const Totals totals = window_totals(epoch_at(clock_.now()));
  RetryBudgetSnapshot snapshot;
  snapshot.requests_in_window = totals.requests;
  snapshot.retries_in_window = totals.retries;
  snapshot.retry_allowance = allowance(totals.requests);
  snapshot.retries_attempted = attempted_;
  snapshot.retries_granted = granted_;
  snapshot.retries_refused = refused_;
  snapshot.retries_returned = returned_;
  return snapshot;
}

}  // namespace sales::resilience

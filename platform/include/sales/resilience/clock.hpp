#pragma once
// Time as an interface: breakers, budgets and limiters read "now" through a Clock, so tests
// move a FakeClock forward instead of sleeping, and stay fast and deterministic.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace sales::resilience {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }

  // The real clock has no state, so one shared instance can be every primitive's default.
  static const SteadyClock& instance() {
    static const SteadyClock clock;
    return clock;
  }
};

// For tests anywhere in the tree. Thread-safe, so a concurrency test can move time while
// workers read it. Starts an hour after the epoch so code computing `now - window` never
// lands before the clock's origin.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{} + std::chrono::hours(1))
      : ticks_(start.time_since_epoch().count()) {}

  TimePoint now() const override { return TimePoint{Duration{ticks_.load()}}; }
  void advance(Duration by) { ticks_.fetch_add(by.count()); }
  void set(TimePoint to) { ticks_.store(to.time_since_epoch().count()); }

 private:
  std::atomic<Duration::rep> ticks_;
};

// Whole seconds for Retry-After and RateLimit headers: rounded up, so a client that waits
// that long finds capacity, and at least 1, so a client never retries in the same instant.
inline std::int64_t whole_seconds_at_least_one(Duration wait) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::max<std::int64_t>(1, seconds);
}

}  // namespace sales::resilience

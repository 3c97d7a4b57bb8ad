#pragma once
// A per-upstream circuit breaker with resilience4j's semantics (DESIGN.md §5): a count-based
// sliding window of recent results; once it holds at least `minimum_calls` and the failure
// rate reaches the threshold, the breaker opens and refuses calls for `open_duration`; then
// it lets `half_open_calls` trial calls through and closes or opens again on their results.
//
// Every admitted call gets a Permit that must end in exactly one of on_success, on_failure
// or release_without_result; the destructor releases a forgotten one, so a client that goes
// away never leaks a half-open trial slot. A Permit remembers the breaker state it was
// issued in: a result that arrives after the breaker has moved on (a slow call admitted
// while CLOSED finishing during HALF_OPEN) is counted but does not decide the new state.
// The breaker must outlive its permits.
//
// CLOSED takes no lock: the state and generation are mirrored in one atomic that every
// transition writes under the lock, so a call admitted from it is the same as one admitted
// just before a racing transition (its result then arrives late). A window of up to 32 calls
// lives in one atomic word with the generation it belongs to, so a result is recorded with a
// compare-and-swap; only a result that opens the breaker, a late one, a larger window and the
// other states take the lock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "sales/resilience/clock.hpp"

namespace sales::resilience {

enum class CircuitState { Closed, Open, HalfOpen };
std::string_view to_string(CircuitState state);

struct CircuitBreakerConfig {
  std::size_t window_size = 20;        // results kept in the sliding window
  std::size_t minimum_calls = 10;      // no verdict on fewer results (capped at window_size)
  double failure_rate_percent = 50.0;  // opens at a rate >= this
  Duration open_duration = std::chrono::seconds(10);
  std::size_t half_open_calls = 3;  // trial calls admitted, and results needed to decide
  // A successful call slower than this counts as a failure; zero disables slow-call counting.
  Duration slow_call_threshold{0};
};

// Counters are totals since construction; window_* describe the results that decide the next
// transition (the sliding window when CLOSED, the trial results when HALF_OPEN).
struct CircuitBreakerSnapshot {
  CircuitState state = CircuitState::Closed;
  std::size_t window_calls = 0;
  std::size_t window_failures = 0;      // including slow calls
  std::size_t half_open_in_flight = 0;  // trial calls admitted that have no result yet
  std::uint64_t successful_calls = 0;   // including slow ones
  std::uint64_t failed_calls = 0;
  std::uint64_t slow_calls = 0;
  std::uint64_t rejected_calls = 0;
  std::uint64_t released_calls = 0;  // admitted, then abandoned without a result
  std::uint64_t late_results = 0;    // results of calls admitted before the last transition
  std::uint64_t transitions_to_closed = 0;
  std::uint64_t transitions_to_open = 0;
  std::uint64_t transitions_to_half_open = 0;
  Duration retry_after{};  // while OPEN, until it lets a trial call through; else zero
};

// Called after the breaker's lock is released, so it may read the breaker; two transitions
// racing on different threads may be reported out of order.
using CircuitTransitionListener = std::function<void(CircuitState from, CircuitState to)>;

class CircuitBreaker {
 public:
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    bool admitted() const { return admitted_; }
    explicit operator bool() const { return admitted_; }
    // For a refused call: how long until the breaker admits trial calls. Zero when that is
    // unknown (HALF_OPEN with every trial slot taken); whole_seconds_at_least_one makes it 1 s.
    Duration retry_after() const { return retry_after_; }

    // Exactly one of these, once, on an admitted permit; anything else is a caller bug and
    // throws std::logic_error.
    void on_success(Duration latency);
    void on_failure();
    void release_without_result();

   private:
    friend class CircuitBreaker;
    Permit() = default;
    CircuitBreaker* take_pending(const char* what);  // throws unless admitted and pending

    CircuitBreaker* breaker_ = nullptr;  // set while admitted and still waiting for a result
    std::uint64_t generation_ = 0;
    bool admitted_ = false;
    Duration retry_after_{0};
  };

  explicit CircuitBreaker(CircuitBreakerConfig config, const Clock& clock = SteadyClock::instance(),
                          CircuitTransitionListener listener = {});
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  [[nodiscard]] Permit try_acquire();

  // OPEN becomes HALF_OPEN once open_duration has passed, at whichever comes first: a call or
  // a look (state, retry_after, snapshot: the gateway's metric and admin page). So a breaker
  // whose upstream got no traffic meanwhile is not reported OPEN, with no wait left, until a
  // request comes; resilience4j's automatic transition does the same by a timer.
  CircuitState state();
  Duration retry_after();  // remaining open time; zero unless OPEN
  CircuitBreakerSnapshot snapshot();
  const CircuitBreakerConfig& config() const { return config_; }

 private:
  enum class Result { Success, Failure, Released };
  struct Transition {
    CircuitState from;
    CircuitState to;
  };

  void finish(std::uint64_t generation, Result result, bool slow);
  void count(Result result, bool slow);
  bool finish_closed_without_lock(std::uint64_t generation, Result result, bool slow);
  bool record_in_window(bool failed);  // under the lock; true when the result opens the breaker
  bool packed_window() const;
  bool reaches_threshold(std::uint64_t packed) const;
  bool rate_reaches_threshold(std::size_t failures, std::size_t calls) const;
  Transition move_to(CircuitState next, TimePoint now);
  std::optional<Transition> half_open_when_due(TimePoint now);  // under the lock
  void fill_snapshot(CircuitBreakerSnapshot& snapshot) const;    // under the lock
  Duration open_left(TimePoint now) const;                        // under the lock: retry_after
  // `read(now)` under the lock, after a due OPEN moved to HALF_OPEN; the move announced after.
  template <class Read>
  auto look(Read&& read);
  void notify(const std::optional<Transition>& transition) const;
  Permit acquire_locked();

  // The generation while CLOSED, kNotClosed otherwise: try_acquire's lock-free fast path.
  static constexpr std::uint64_t kNotClosed = ~std::uint64_t{0};

  const CircuitBreakerConfig config_;
  const Clock& clock_;
  const CircuitTransitionListener listener_;

  mutable std::mutex mutex_;
  CircuitState state_ = CircuitState::Closed;
  std::uint64_t generation_ = 0;  // bumped on every transition; permits carry it
  std::atomic<std::uint64_t> closed_generation_{0};
  TimePoint opened_at_{};

  // CLOSED, a window of up to 32 calls: bits 0-31 the results (bit 0 the newest, 1 = failed),
  // bits 32-37 how many, bits 38-62 the generation modulo 2^25. kNotClosed unless CLOSED, for
  // any window size. Set by transitions under the lock; results CAS it with or without it.
  std::atomic<std::uint64_t> window_word_;

  // CLOSED, a larger window: ring buffer of the last window_size results (true = failed).
  std::vector<bool> window_;
  std::size_t window_next_ = 0;
  std::size_t window_calls_ = 0;
  std::size_t window_failures_ = 0;

  // HALF_OPEN: slots handed out (a release gives one back) and results collected.
  std::size_t trials_admitted_ = 0;
  std::size_t trial_results_ = 0;
  std::size_t trial_failures_ = 0;

  struct Counters {  // totals since construction (results are counted without the lock)
    std::atomic<std::uint64_t> successful{0}, failed{0}, slow{0}, rejected{0}, released{0}, late{0};
    std::atomic<std::uint64_t> to_closed{0}, to_open{0}, to_half_open{0};
  };
  Counters totals_;
};

}  // namespace sales::resilience

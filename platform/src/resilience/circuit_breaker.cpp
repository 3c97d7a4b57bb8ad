#include "sales/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace sales::resilience {

std::string_view to_string(CircuitState state) {
  switch (state) {
    case CircuitState::Closed:
      return "closed";
    case CircuitState::Open:
      return "open";
    case CircuitState::HalfOpen:
      return "half_open";
  }
  return "unknown";
}

namespace {

CircuitBreakerConfig validated(CircuitBreakerConfig config) {
  if (config.window_size == 0 || config.minimum_calls == 0 || config.half_open_calls == 0) {
    throw std::invalid_argument(
        "circuit breaker: window_size, minimum_calls and half_open_calls must be positive");
  }
  if (!(config.failure_rate_percent > 0.0 && config.failure_rate_percent <= 100.0)) {
    throw std::invalid_argument("circuit breaker: failure_rate_percent must be in (0, 100]");
  }
  if (config.open_duration <= Duration::zero() || config.slow_call_threshold < Duration::zero()) {
    throw std::invalid_argument(
        "circuit breaker: open_duration must be positive, slow_call_threshold not negative");
  }
  // resilience4j: a minimum larger than the window means "a full window".
  config.minimum_calls = std::min(config.minimum_calls, config.window_size);
  return config;
}

// The packed CLOSED window (see window_word_).
constexpr std::size_t kPackedWindowMax = 32;
constexpr int kCallsShift = 32;
constexpr int kTagShift = 38;
constexpr std::uint64_t kTagMask = (std::uint64_t{1} << 25) - 1;

std::uint64_t tag_of(std::uint64_t generation) { return generation & kTagMask; }
std::uint64_t window_tag(std::uint64_t word) { return word >> kTagShift; }  // never a tag for kNotClosed
std::uint64_t fresh_window(std::uint64_t generation) { return tag_of(generation) << kTagShift; }
std::size_t window_calls(std::uint64_t word) { return (word >> kCallsShift) & 0x3F; }
std::size_t window_failures(std::uint64_t word) { return static_cast<std::size_t>(std::popcount(word & 0xFFFF'FFFFu)); }

// The word with one more result; the oldest slides out once window_size results are held.
std::uint64_t with_result(std::uint64_t word, bool failed, std::size_t window_size) {
  const std::uint64_t results = ((word << 1) | (failed ? 1U : 0U)) & ((std::uint64_t{1} << window_size) - 1);
  const std::uint64_t calls = std::min(window_calls(word) + 1, window_size);
  return (tag_of(window_tag(word)) << kTagShift) | (calls << kCallsShift) | results;
}

}  // namespace

// --- Permit ---------------------------------------------------------------------------

CircuitBreaker::Permit::Permit(Permit&& other) noexcept
    : breaker_(std::exchange(other.breaker_, nullptr)),
      generation_(other.generation_),
      admitted_(other.admitted_),
      retry_after_(other.retry_after_) {}

CircuitBreaker::Permit& CircuitBreaker::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (breaker_ != nullptr) breaker_->finish(generation_, Result::Released, false);
    breaker_ = std::exchange(other.breaker_, nullptr);
    generation_ = other.generation_;
    admitted_ = other.admitted_;
    retry_after_ = other.retry_after_;
  }
  return *this;
}

CircuitBreaker::Permit::~Permit() {
  if (breaker_ != nullptr) breaker_->finish(generation_, Result::Released, false);
}

CircuitBreaker* CircuitBreaker::Permit::take_pending(const char* what) {
  if (breaker_ == nullptr) {
    throw std::logic_error(std::string("circuit breaker: ") + what +
                           " on a permit that was refused or already has a result");
  }
  return std::exchange(breaker_, nullptr);
}

void CircuitBreaker::Permit::on_success(Duration latency) {
  CircuitBreaker* breaker = take_pending("on_success");
  const Duration threshold = breaker->config_.slow_call_threshold;
  const bool slow = threshold > Duration::zero() && latency > threshold;
  breaker->finish(generation_, Result::Success, slow);
}

void CircuitBreaker::Permit::on_failure() {
  take_pending("on_failure")->finish(generation_, Result::Failure, false);
}

void CircuitBreaker::Permit::release_without_result() {
  take_pending("release_without_result")->finish(generation_, Result::Released, false);
}

// --- CircuitBreaker -------------------------------------------------------------------

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config, const Clock& clock,
                               CircuitTransitionListener listener)
    : config_(validated(config)),
      clock_(clock),
      listener_(std::move(listener)),
      window_word_(fresh_window(0)),
      window_(packed_window() ? 0 : config_.window_size, false) {}

bool CircuitBreaker::packed_window() const { return config_.window_size <= kPackedWindowMax; }

bool CircuitBreaker::reaches_threshold(std::uint64_t packed) const {
  return window_calls(packed) >= config_.minimum_calls &&
         rate_reaches_threshold(window_failures(packed), window_calls(packed));
}

CircuitBreaker::Permit CircuitBreaker::try_acquire() {
  if (const std::uint64_t closed = closed_generation_.load(std::memory_order_acquire); closed != kNotClosed) {
    Permit permit;
    permit.breaker_ = this;
    permit.generation_ = closed;
    permit.admitted_ = true;
    return permit;
  }
  return acquire_locked();
}

CircuitBreaker::Permit CircuitBreaker::acquire_locked() {
  Permit permit;
  std::optional<Transition> transition;
  {
    std::lock_guard lock(mutex_);
    const TimePoint now = clock_.now();
    transition = half_open_when_due(now);
    const bool admit = state_ == CircuitState::Closed ||
                       (state_ == CircuitState::HalfOpen && trials_admitted_ < config_.half_open_calls);
    if (admit) {
      if (state_ == CircuitState::HalfOpen) ++trials_admitted_;
      permit.breaker_ = this;
      permit.generation_ = generation_;
      permit.admitted_ = true;
    } else {
      ++totals_.rejected;
      if (state_ == CircuitState::Open) permit.retry_after_ = opened_at_ + config_.open_duration - now;
    }
  }
  notify(transition);
  return permit;
}

void CircuitBreaker::count(Result result, bool slow) {
  switch (result) {
    case Result::Success:
      ++totals_.successful;
      if (slow) ++totals_.slow;
      break;
    case Result::Failure:
      ++totals_.failed;
      break;
    case Result::Released:
      ++totals_.released;
      break;
  }
}

// CLOSED without the lock: a release changes nothing there (nor for a permit of an earlier
// state), and a result goes into the packed window unless it belongs to an earlier state or
// would open the breaker; those, like every other case, are decided under the lock.
bool CircuitBreaker::finish_closed_without_lock(std::uint64_t generation, Result result, bool slow) {
  std::uint64_t word = window_word_.load(std::memory_order_acquire);
  if (word == kNotClosed) return false;
  if (result == Result::Released) return true;
  const bool failed = result == Result::Failure || slow;
  while (packed_window() && word != kNotClosed && window_tag(word) == tag_of(generation)) {
    const std::uint64_t next = with_result(word, failed, config_.window_size);
    if (reaches_threshold(next)) return false;
    if (window_word_.compare_exchange_weak(word, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return true;
    }
  }
  return false;
}

void CircuitBreaker::finish(std::uint64_t generation, Result result, bool slow) {
  count(result, slow);
  if (finish_closed_without_lock(generation, result, slow)) return;
  std::optional<Transition> transition;
  {
    std::lock_guard lock(mutex_);
    const bool failed = result == Result::Failure || slow;
    if (generation != generation_) {
      // Admitted under an earlier state: its slot and window belong to a state that is gone.
      if (result != Result::Released) ++totals_.late;
    } else if (state_ == CircuitState::Closed) {
      if (result != Result::Released && record_in_window(failed)) {
        transition = move_to(CircuitState::Open, clock_.now());
      }
    } else if (state_ == CircuitState::HalfOpen) {
      if (result == Result::Released) {
        --trials_admitted_;  // give the slot to another trial call
      } else {
        ++trial_results_;
        if (failed) ++trial_failures_;
        if (trial_results_ >= config_.half_open_calls) {
          const bool reopen = rate_reaches_threshold(trial_failures_, trial_results_);
          transition = move_to(reopen ? CircuitState::Open : CircuitState::Closed, clock_.now());
        }
      }
    }
    // OPEN with the current generation cannot happen: no permit is issued while OPEN.
  }
  notify(transition);
}

bool CircuitBreaker::record_in_window(bool failed) {
  if (packed_window()) {
    // Results recorded without the lock may move the word meanwhile; only a lock holder closes
    // it, and a result that opens the breaker closes it in the same step, so none slips in.
    std::uint64_t word = window_word_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint64_t next = with_result(word, failed, config_.window_size);
      const bool opens = reaches_threshold(next);
      if (window_word_.compare_exchange_weak(word, opens ? kNotClosed : next, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
        return opens;
      }
    }
  }
  if (window_calls_ == window_.size()) {
    if (window_[window_next_]) --window_failures_;  // the oldest result slides out
  } else {
    ++window_calls_;
  }
  window_[window_next_] = failed;
  if (failed) ++window_failures_;
  window_next_ = (window_next_ + 1) % window_.size();
  return window_calls_ >= config_.minimum_calls && rate_reaches_threshold(window_failures_, window_calls_);
}

bool CircuitBreaker::rate_reaches_threshold(std::size_t failures, std::size_t calls) const {
  return calls > 0 &&
         static_cast<double>(failures) * 100.0 >= config_.failure_rate_percent * static_cast<double>(calls);
}

CircuitBreaker::Transition CircuitBreaker::move_to(CircuitState next, TimePoint now) {
  const Transition transition{state_, next};
  state_ = next;
  ++generation_;
  closed_generation_.store(next == CircuitState::Closed ? generation_ : kNotClosed, std::memory_order_release);
  switch (next) {
    case CircuitState::Closed:
      std::fill(window_.begin(), window_.end(), false);
      window_next_ = window_calls_ = window_failures_ = 0;
      ++totals_.to_closed;
      break;
    case CircuitState::Open:
      opened_at_ = now;
      ++totals_.to_open;
      break;
    case CircuitState::HalfOpen:
      trials_admitted_ = trial_results_ = trial_failures_ = 0;
      ++totals_.to_half_open;
      break;
  }
  window_word_.store(next == CircuitState::Closed ? fresh_window(generation_) : kNotClosed, std::memory_order_release);
  return transition;
}

void CircuitBreaker::notify(const std::optional<Transition>& transition) const {
  if (transition && listener_) listener_(transition->from, transition->to);
}

std::optional<CircuitBreaker::Transition> CircuitBreaker::half_open_when_due(TimePoint now) {
  if (state_ != CircuitState::Open || now - opened_at_ < config_.open_duration) return std::nullopt;
  return move_to(CircuitState::HalfOpen, now);
}

template <class Read>
auto CircuitBreaker::look(Read&& read) {
  std::optional<Transition> transition;
  std::invoke_result_t<Read&, TimePoint> seen{};
  {
    std::lock_guard lock(mutex_);
    const TimePoint now = clock_.now();
    transition = half_open_when_due(now);
    seen = read(now);
  }
  notify(transition);
  return seen;
}

CircuitState CircuitBreaker::state() {
  return look([this](TimePoint) { return state_; });
}

Duration CircuitBreaker::retry_after() {
  return look([this](TimePoint now) { return open_left(now); });
}

Duration CircuitBreaker::open_left(TimePoint now) const {
  return state_ == CircuitState::Open ? opened_at_ + config_.open_duration - now : Duration::zero();
}

CircuitBreakerSnapshot CircuitBreaker::snapshot() {
  return look([this](TimePoint now) {
    CircuitBreakerSnapshot snapshot;
    fill_snapshot(snapshot);
    snapshot.retry_after = open_left(now);
    return snapshot;
  });
}

void CircuitBreaker::fill_snapshot(CircuitBreakerSnapshot& snapshot) const {
  snapshot.successful_calls = totals_.successful;
  snapshot.failed_calls = totals_.failed;
  snapshot.slow_calls = totals_.slow;
  snapshot.rejected_calls = totals_.rejected;
  snapshot.released_calls = totals_.released;
  snapshot.late_results = totals_.late;
  snapshot.transitions_to_closed = totals_.to_closed;
  snapshot.transitions_to_open = totals_.to_open;
  snapshot.transitions_to_half_open = totals_.to_half_open;
  snapshot.state = state_;
  if (state_ == CircuitState::Closed && packed_window()) {
    const std::uint64_t word = window_word_.load(std::memory_order_acquire);
    snapshot.window_calls = window_calls(word);
    snapshot.window_failures = window_failures(word);
  } else if (state_ == CircuitState::Closed) {
    snapshot.window_calls = window_calls_;
    snapshot.window_failures = window_failures_;
  } else if (state_ == CircuitState::HalfOpen) {
    snapshot.window_calls = trial_results_;
    snapshot.window_failures = trial_failures_;
    snapshot.half_open_in_flight = trials_admitted_ - trial_results_;
  }
}

}  // namespace sales::resilience

#include "sales/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
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
      window_(config_.window_size, false) {}

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
    if (state_ == CircuitState::Open && now - opened_at_ >= config_.open_duration) {
      transition = move_to(CircuitState::HalfOpen, now);
    }
    const bool admit = state_ == CircuitState::Closed ||
                       (state_ == CircuitState::HalfOpen && trials_admitted_ < config_.half_open_calls);
    if (admit) {
      if (state_ == CircuitState::HalfOpen) ++trials_admitted_;
      permit.breaker_ = this;
      permit.generation_ = generation_;
      permit.admitted_ = true;
    } else {
      ++totals_.rejected_calls;
      if (state_ == CircuitState::Open) permit.retry_after_ = opened_at_ + config_.open_duration - now;
    }
  }
  notify(transition);
  return permit;
}

void CircuitBreaker::finish(std::uint64_t generation, Result result, bool slow) {
  std::optional<Transition> transition;
  {
    std::lock_guard lock(mutex_);
    switch (result) {
      case Result::Success:
        ++totals_.successful_calls;
        if (slow) ++totals_.slow_calls;
        break;
      case Result::Failure:
        ++totals_.failed_calls;
        break;
      case Result::Released:
        ++totals_.released_calls;
        break;
    }
    const bool failed = result == Result::Failure || slow;

    if (generation != generation_) {
      // Admitted under an earlier state: its slot and window belong to a state that is gone.
      if (result != Result::Released) ++totals_.late_results;
    } else if (state_ == CircuitState::Closed) {
      if (result != Result::Released) {
        record_in_window(failed);
        if (window_calls_ >= config_.minimum_calls &&
            rate_reaches_threshold(window_failures_, window_calls_)) {
          transition = move_to(CircuitState::Open, clock_.now());
        }
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

void CircuitBreaker::record_in_window(bool failed) {
  if (window_calls_ == window_.size()) {
    if (window_[window_next_]) --window_failures_;  // the oldest result slides out
  } else {
    ++window_calls_;
  }
  window_[window_next_] = failed;
  if (failed) ++window_failures_;
  window_next_ = (window_next_ + 1) % window_.size();
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
      ++totals_.transitions_to_closed;
      break;
    case CircuitState::Open:
      opened_at_ = now;
      ++totals_.transitions_to_open;
      break;
    case CircuitState::HalfOpen:
      trials_admitted_ = trial_results_ = trial_failures_ = 0;
      ++totals_.transitions_to_half_open;
      break;
  }
  return transition;
}

void CircuitBreaker::notify(const std::optional<Transition>& transition) const {
  if (transition && listener_) listener_(transition->from, transition->to);
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

Duration CircuitBreaker::retry_after() const {
  std::lock_guard lock(mutex_);
  if (state_ != CircuitState::Open) return Duration::zero();
  return std::max(Duration::zero(), opened_at_ + config_.open_duration - clock_.now());
}

CircuitBreakerSnapshot CircuitBreaker::snapshot() const {
  std::lock_guard lock(mutex_);
  CircuitBreakerSnapshot snapshot = totals_;
  snapshot.state = state_;
  if (state_ == CircuitState::Closed) {
    snapshot.window_calls = window_calls_;
    snapshot.window_failures = window_failures_;
  } else if (state_ == CircuitState::HalfOpen) {
    snapshot.window_calls = trial_results_;
    snapshot.window_failures = trial_failures_;
    snapshot.half_open_in_flight = trials_admitted_ - trial_results_;
  }
  return snapshot;
}

}  // namespace sales::resilience

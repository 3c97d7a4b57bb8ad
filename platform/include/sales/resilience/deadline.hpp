#pragma once
// The deadline of the request a thread is working for. The gateway sends each attempt's
// time left as X-Request-Budget-Ms; once the gateway has answered 504, work done for that
// request helps nobody. Service handlers run start to finish on one server thread (they
// block on the database), so a thread-local deadline set around the handler reaches code
// far from it — the database pool's wait, calls to other services — without threading a
// parameter through every store and client. Outside a request there is no deadline, and
// every wait is bounded by its own timeout only, as before.
#include <chrono>
#include <optional>
#include <stdexcept>

#include "sales/resilience/clock.hpp"

namespace sales::resilience {

inline constexpr TimePoint kNoDeadline = TimePoint::max();

// arrival + budget; kNoDeadline without a budget (or one too large to add).
TimePoint deadline_after(TimePoint arrival, std::optional<std::chrono::milliseconds> budget);

// The deadline of the request this thread works for; kNoDeadline outside one.
TimePoint current_deadline() noexcept;

// When an operation that waits at most `timeout` from `now` must give up: the sooner of
// that and the current deadline. `cut` (when given) says whether the deadline decided.
TimePoint give_up_at(TimePoint now, Duration timeout, bool* cut = nullptr) noexcept;

// What a service keeps back of a request's budget from the work it does for it (its
// database waits, its calls to other services): the time to answer before its caller
// stops waiting. Without it a service whose callee hung ran out of time at the very moment
// its caller did, so the caller saw the service time out rather than the service's answer
// naming the callee (and the gateway counts a timeout against the service's breaker, so
// one hung service opened the breakers of those that call it). A tenth, at most 100 ms.
std::chrono::milliseconds answer_reserve(std::chrono::milliseconds budget) noexcept;

// Whole milliseconds left until `deadline` at `now` (rounded down), at least 0: what a
// call made on the request's behalf forwards as its X-Request-Budget-Ms.
std::chrono::milliseconds budget_left(TimePoint now, TimePoint deadline) noexcept;

// Sets the current deadline (never later than one already set) for its lifetime and
// restores the previous one after: the server wraps each handler in one. No allocation; two thread-local stores.
class DeadlineScope {
 public:
  explicit DeadlineScope(TimePoint deadline) noexcept;
  ~DeadlineScope();
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  TimePoint previous_;
};

// Work stopped because the current request's deadline passed; the server answers 504.
// (The database pool throws pg::DeadlineExceeded instead, a pg::Unavailable, so that code
// handling a pool timeout handles it alike.)
class DeadlineExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sales::resilience

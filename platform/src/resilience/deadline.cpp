#include "sales/resilience/deadline.hpp"

#include <algorithm>

namespace sales::resilience {

namespace {
// constinit: no lazy-initialisation guard on each access.
constinit thread_local TimePoint current = kNoDeadline;
}  // namespace

TimePoint deadline_after(TimePoint arrival, std::optional<std::chrono::milliseconds> budget) {
  if (!budget) return kNoDeadline;
  // A budget of centuries (garbage that parses) must not overflow into the past.
  if (*budget >= std::chrono::duration_cast<std::chrono::milliseconds>(kNoDeadline - arrival)) return kNoDeadline;
  return arrival + *budget;
}

TimePoint current_deadline() noexcept { return current; }

TimePoint give_up_at(TimePoint now, Duration timeout, bool* cut) noexcept {
  const TimePoint own = now + timeout;
  const bool by_deadline = current < own;
  if (cut) *cut = by_deadline;
  return by_deadline ? current : own;
}

std::chrono::milliseconds answer_reserve(std::chrono::milliseconds budget) noexcept {
  return std::clamp(budget / 10, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
}

std::chrono::milliseconds budget_left(TimePoint now, TimePoint deadline) noexcept {
  if (deadline <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
}

// A scope inside another can only bring the deadline closer: work done for a request never
// outlives what that request's caller waits for.
DeadlineScope::DeadlineScope(TimePoint deadline) noexcept : previous_(current) { current = std::min(current, deadline); }
DeadlineScope::~DeadlineScope() { current = previous_; }

}  // namespace sales::resilience

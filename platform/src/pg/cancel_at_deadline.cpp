#include "cancel_at_deadline.hpp"

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "sales/log/log.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::pg::detail {

// The process's one watchdog, started when a statement is first armed.
class Watchdog {
 public:
  static Watchdog& instance() {
    static Watchdog w;
    return w;
  }

  void arm(CancelAtDeadline& c, resilience::TimePoint deadline) {
    std::lock_guard lock(mu_);
    c.at_ = armed_.emplace(deadline, &c);
    c.armed_ = true;
    // Only a deadline sooner than the watchdog's wake-up needs a wake: deadlines are mostly
    // "now + a similar budget", so it wakes about once per budget, not once per statement.
    if (deadline < sleeping_until_) cv_.notify_one();
  }

  void disarm(CancelAtDeadline& c) {
    std::lock_guard lock(mu_);  // held by the watchdog while it sends c's cancel
    if (!c.fired_) armed_.erase(c.at_);
    c.armed_ = false;
  }

  bool fired(const CancelAtDeadline& c) {
    std::lock_guard lock(mu_);
    return c.fired_;
  }

 private:
  Watchdog() : thread_([this](std::stop_token st) { run(st); }) {}

  void run(std::stop_token st) {
    std::unique_lock lock(mu_);
    while (!st.stop_requested()) {
      if (armed_.empty()) {
        sleeping_until_ = resilience::TimePoint::max();
        cv_.wait(lock, st, [this] { return !armed_.empty(); });
        continue;
      }
      // Until the earliest deadline (disarmed meanwhile or not: a wake-up too many is cheap).
      sleeping_until_ = armed_.begin()->first;
      const auto wake = sleeping_until_;
      if (cv_.wait_until(lock, st, wake, [this, wake] { return !armed_.empty() && armed_.begin()->first < wake; }))
        continue;  // a sooner deadline came
      const auto now = resilience::SteadyClock::instance().now();
      while (!armed_.empty() && armed_.begin()->first <= now) {
        CancelAtDeadline* c = armed_.begin()->second;
        armed_.erase(armed_.begin());
        c->fired_ = true;
        char err[256] = {};
        if (PQcancel(c->cancel_, err, sizeof err) != 1) log::warn("could not cancel a statement past its deadline: {}", err);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::multimap<resilience::TimePoint, CancelAtDeadline*> armed_;
  resilience::TimePoint sleeping_until_ = resilience::TimePoint::max();  // the watchdog's next wake-up
  std::jthread thread_;  // last: it starts after, and stops before, what it uses
};

CancelAtDeadline::CancelAtDeadline(PGcancel* cancel) : cancel_(cancel) {
  const auto deadline = resilience::current_deadline();
  if (!cancel_ || deadline == resilience::kNoDeadline) return;
  // Already past: not armed. The pool refuses new transactions past the deadline, and what
  // a handler sends after it (its ROLLBACK) must run.
  if (deadline <= resilience::SteadyClock::instance().now()) return;
  Watchdog::instance().arm(*this, deadline);
}

CancelAtDeadline::~CancelAtDeadline() {
  if (armed_) Watchdog::instance().disarm(*this);
}

bool CancelAtDeadline::fired() const { return armed_ && Watchdog::instance().fired(*this); }

}  // namespace sales::pg::detail

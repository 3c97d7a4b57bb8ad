#include "cancel_at_deadline.hpp"

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::pg::detail {

namespace {
// PostgreSQL ignores a cancel that reaches a backend between commands (before the statement
// arrived, between a pipeline's steps, after a prepare): until the statement is disarmed,
// its cancel is sent again this often.
constexpr auto kResendEvery = std::chrono::milliseconds(50);
}  // namespace

// The process's one watchdog, started when a statement is first armed. Its mutex is never
// held while a cancel is sent (PQcancel opens a connection): arming and disarming other
// statements go on meanwhile; only the statement whose cancel is in flight waits for it.
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
    std::unique_lock lock(mu_);
    // A cancel in flight must land before the connection runs anything else.
    sent_.wait(lock, [&c] { return !c.sending_; });
    armed_.erase(c.at_);
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
    std::vector<CancelAtDeadline*> due;
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
      due.clear();
      while (!armed_.empty() && armed_.begin()->first <= now) {
        CancelAtDeadline* c = armed_.begin()->second;
        armed_.erase(armed_.begin());
        c->fired_ = true;
        c->sending_ = true;
        due.push_back(c);
      }
      lock.unlock();
      std::vector<std::string> failures;
      for (CancelAtDeadline* c : due) {
        char err[256] = {};
        if (PQcancel(c->cancel_, err, sizeof err) != 1) failures.emplace_back(err);
      }
      lock.lock();
      for (CancelAtDeadline* c : due) {
        c->sending_ = false;
        c->at_ = armed_.emplace(now + kResendEvery, c);  // again, unless disarmed by then
      }
      sent_.notify_all();
      for (const auto& f : failures) log::warn("could not cancel a statement past its deadline: {}", f);
    }
  }

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::condition_variable sent_;  // a cancel in flight has been sent
  std::multimap<resilience::TimePoint, CancelAtDeadline*> armed_;
  resilience::TimePoint sleeping_until_ = resilience::TimePoint::max();  // the watchdog's next wake-up
  std::jthread thread_;  // last: it starts after, and stops before, what it uses
};

resilience::TimePoint refuse_past_deadline() {
  const auto deadline = resilience::current_deadline();
  if (deadline == resilience::kNoDeadline || deadline > resilience::SteadyClock::instance().now()) return deadline;
  throw DeadlineExceeded("the request's deadline had passed before its next SQL was sent; it was not sent",
                         Error::kQueryCanceled);
}

CancelAtDeadline::CancelAtDeadline(PGcancel* cancel) : cancel_(cancel) {
  const auto deadline = refuse_past_deadline();
  if (!cancel_ || deadline == resilience::kNoDeadline) return;
  Watchdog::instance().arm(*this, deadline);
}

CancelAtDeadline::~CancelAtDeadline() {
  if (armed_) Watchdog::instance().disarm(*this);
}

bool CancelAtDeadline::fired() const { return armed_ && Watchdog::instance().fired(*this); }

}  // namespace sales::pg::detail

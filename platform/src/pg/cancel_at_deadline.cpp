#include "cancel_at_deadline.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stop_token>
#include <system_error>
#include <thread>
#include <vector>

#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::pg::detail {

namespace {
// PostgreSQL ignores a cancel that reaches a backend between commands (before the statement
// arrived, between a pipeline's steps, after a prepare): until the statement is disarmed,
// its cancel is sent again, 50 ms after the first, then twice as long each time up to 1 s.
// Each send is a connection the server forks a process for: a backend that cancels cannot
// end (stopped, stuck in I/O) must not draw twenty a second per statement for as long as it lasts.
constexpr auto kFirstResend = std::chrono::milliseconds(50);
constexpr auto kLongestResend = std::chrono::milliseconds(1000);
std::atomic<std::uint64_t> sent_count{0};

constexpr std::chrono::milliseconds resend_after(int sends) {
  return sends >= 5 ? kLongestResend : kFirstResend * (1 << (sends - 1));
}
// Cancels in flight at once. A cancel whose host has gone silent holds its sender for
// seconds (until the connection's liveness settings give up); the others go on meanwhile.
constexpr std::size_t kMaxSenders = 16;
}  // namespace

std::uint64_t cancels_sent() { return sent_count.load(std::memory_order_relaxed); }

// The process's one watchdog, started when a statement is first armed. It only keeps time:
// a due cancel goes to a queue that sender threads (started as needed, up to kMaxSenders)
// send from, since PQcancel opens a connection and waits for the server. No mutex is held
// while a cancel is sent; only the statement whose cancel is in flight waits for it.
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
    // Checked at every wake: while this thread waited for a cancel in flight, the watchdog
    // may have queued the statement's next one.
    while (c.sending_) {
      // Queued: the statement has ended, so its cancel is not sent at all.
      if (auto queued = std::find(to_send_.begin(), to_send_.end(), &c); queued != to_send_.end()) {
        to_send_.erase(queued);
        c.sending_ = false;
        c.armed_ = false;
        return;
      }
      // Picked up: a cancel in flight must land before the connection runs anything else.
      sent_.wait(lock);
    }
    armed_.erase(c.at_);
    c.armed_ = false;
  }

  bool fired(const CancelAtDeadline& c) {
    std::lock_guard lock(mu_);
    return c.fired_;
  }

 private:
  Watchdog() : thread_([this](std::stop_token st) { keep_time(st); }) {}

  void keep_time(std::stop_token st) {
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
      const auto queued_before = to_send_.size();
      while (!armed_.empty() && armed_.begin()->first <= now) {
        CancelAtDeadline* c = armed_.begin()->second;
        armed_.erase(armed_.begin());
        c->fired_ = true;
        c->sending_ = true;
        to_send_.push_back(c);
      }
      if (to_send_.size() == queued_before) continue;
      start_senders();
      send_cv_.notify_all();
    }
  }

  // With mu_ held: a sender for every queued cancel, up to kMaxSenders. One that cannot be
  // started (no threads left) leaves the cancels to the senders there are.
  void start_senders() {
    while (idle_senders_ < to_send_.size() && senders_.size() < kMaxSenders && !senders_unavailable_) {
      try {
        senders_.emplace_back([this](std::stop_token sender_stop) { send(sender_stop); });
        ++idle_senders_;  // counted before it runs: it takes mu_ first
      } catch (const std::system_error& e) {
        senders_unavailable_ = senders_.size() > 0;  // with none, keep trying at the next due cancel
        log::warn("could not start a thread to send statement cancels ({} running): {}", senders_.size(), e.what());
        return;
      }
    }
  }

  void send(std::stop_token st) {
    std::unique_lock lock(mu_);
    // At a stop (the process exits) the queue is left: nothing waits for those statements.
    while (send_cv_.wait(lock, st, [this] { return !to_send_.empty(); }) && !st.stop_requested()) {
      CancelAtDeadline* c = to_send_.front();
      to_send_.pop_front();
      --idle_senders_;
      lock.unlock();
      char err[256] = {};
      const bool sent = PQcancel(c->cancel_, err, sizeof err) == 1;
      sent_count.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      ++idle_senders_;
      c->sending_ = false;
      // Again, unless disarmed by then; the watchdog may be sleeping past it.
      c->at_ = armed_.emplace(resilience::SteadyClock::instance().now() + resend_after(++c->sends_), c);
      if (c->at_->first < sleeping_until_) cv_.notify_one();
      sent_.notify_all();
      if (!sent) {
        lock.unlock();
        log::warn("could not cancel a statement past its deadline: {}", err);
        lock.lock();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable_any cv_;       // the watchdog: a sooner deadline
  std::condition_variable_any send_cv_;  // the senders: a cancel is due
  std::condition_variable sent_;         // a cancel in flight has been sent
  std::multimap<resilience::TimePoint, CancelAtDeadline*> armed_;
  std::deque<CancelAtDeadline*> to_send_;
  resilience::TimePoint sleeping_until_ = resilience::TimePoint::max();  // the watchdog's next wake-up
  std::size_t idle_senders_ = 0;
  bool senders_unavailable_ = false;  // a start failed while others ran: make do with those
  // Last: threads start after, and stop before, what they use; the watchdog first, so
  // nothing starts a sender while they are stopped.
  std::vector<std::jthread> senders_;
  std::jthread thread_;
};

bool reads_only(std::string_view sql) {
  auto start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  return text::iequals(sql.substr(start, 6), "select");
}

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

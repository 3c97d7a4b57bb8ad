#pragma once
// A connection's deadline, kept by one timer for the connection instead of one per I/O
// operation. beast::tcp_stream arms and cancels a timer around every read and write: in
// the gateway that was a sixth of its CPU per proxied request (reactor lock, a cancelled
// wait completing through the scheduler, a timerfd update every few requests). Here
// moving the deadline later is a store; the timer wakes at the time it was armed for and
// re-arms if the deadline moved on. Only a deadline moved earlier than the armed time
// re-arms at once; `max_sleep` (the shortest timeout the owner uses) caps how far ahead
// the timer is armed, so a connection that alternates a long idle deadline with shorter
// read/write deadlines never does.
// When the deadline passes, the socket is closed: its pending operations end with an
// error and timed_out() says why. Single-threaded: use it on the socket's executor.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace sales::http {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Watchdog(boost::asio::ip::tcp::socket& socket, Clock::duration max_sleep = Clock::duration::max())
      : state_(std::make_shared<State>(socket, max_sleep)) {}
  ~Watchdog() { stop(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void expires_at(Clock::time_point deadline) {
    auto& s = *state_;
    s.deadline = deadline;
    s.timed_out = false;
    if (!s.waiting) {
      arm(state_);
    } else if (s.armed_for > deadline) {
      s.timer.cancel();  // wakes early; the handler re-arms for the new deadline
    }
  }
  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  // No deadline (an idle pooled connection); a timer already armed fires and lets go.
  void expires_never() { state_->deadline = Clock::time_point::max(); }
  [[nodiscard]] bool timed_out() const { return state_->timed_out; }

  // The socket is going away: the pending wait ends and never touches it.
  void stop() {
    if (!state_ || !state_->socket) return;
    state_->socket = nullptr;
    state_->timer.cancel();
  }

 private:
  struct State {
    State(boost::asio::ip::tcp::socket& s, Clock::duration sleep) : socket(&s), timer(s.get_executor()), max_sleep(sleep) {}
    boost::asio::ip::tcp::socket* socket;
    boost::asio::steady_timer timer;
    Clock::duration max_sleep;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for{};
    bool waiting = false;
    bool timed_out = false;
  };

  static void arm(const std::shared_ptr<State>& state) {
    auto& s = *state;
    if (!s.socket || s.deadline == Clock::time_point::max()) return;
    s.waiting = true;
    auto now = Clock::now();
    s.armed_for = s.deadline - now > s.max_sleep ? now + s.max_sleep : s.deadline;
    s.timer.expires_at(s.armed_for);
    s.timer.async_wait([state](const boost::system::error_code&) {
      auto& st = *state;
      st.waiting = false;
      if (!st.socket) return;  // stopped
      if (st.deadline != Clock::time_point::max() && Clock::now() >= st.deadline) {
        st.timed_out = true;
        boost::system::error_code ignored;
        st.socket->close(ignored);
        return;
      }
      arm(state);  // the deadline moved (later, or earlier after a cancel)
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace sales::http

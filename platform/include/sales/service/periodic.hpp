#pragma once
// Work a service does on a thread of its own every so often, off the request and scrape
// paths: counting rows for gauges, re-sending what is stuck, moving inventory's stock feed to
// the outbox. One step at a time; stop() (and the destructor) cuts the wait short and returns
// once a running step has finished. Declare it after everything its step uses, so it stops
// before they go. The interval is counted from the end of a step, so a slow step is never
// followed at once by the next.
//
// wake() asks for a step before the interval is out: someone committed work for it (usually
// through a WakeRegistry). With `gather`, a woken thread first waits that long so that what
// else commits meanwhile goes in the same step; the interval is then only the slow poll for
// work nobody announced.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sales::service {

class Periodic {
 public:
  enum class First { Now, AfterInterval };  // the first step at start(), or one interval later
  // Why a step runs: the interval passed (or start() with First::Now), a wake() came, or
  // stop() came while a wake() was still pending (only with Options::last_step_if_woken).
  enum class Cause { Interval, Woken, Stopping };

  struct Options {
    First first = First::Now;
    // After a wake(), how long to wait for more before the step; only stop() cuts it short.
    std::chrono::milliseconds gather{0};
    // stop() runs one more step (Cause::Stopping) on the thread if a wake() is pending:
    // work announced but not yet stepped for is not left to the next start.
    bool last_step_if_woken = false;
  };

  // `step` handles its own errors: an exception escaping it ends the process.
  Periodic(std::chrono::milliseconds every, std::function<void()> step, First first = First::Now);
  Periodic(std::chrono::milliseconds every, std::function<void(Cause)> step, Options opts);
  ~Periodic();  // stops
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void start();  // a second call does nothing
  void stop();
  // Asks for a step after `gather` instead of at the end of the interval; during a step, for
  // one more after it. Many wakes before that step make one: each costs an atomic exchange,
  // only the first a notify. Never throws; a wake before start() counts from the start.
  void wake() noexcept;

 private:
  void run(std::stop_token st);
  bool wait_for_next_step(std::stop_token st);  // false on stop

  std::chrono::milliseconds every_;
  std::function<void(Cause)> step_;
  Options opts_;
  std::atomic<bool> woken_{false};  // a wake() since the last step began
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

// A step whose failure (an exception) is logged as a warning naming `what`; the next step
// is the retry. For steps with nothing to do about a failure but wait (a sweep).
std::function<void()> warning_on_failure(std::string what, std::function<void()> step);

}  // namespace sales::service

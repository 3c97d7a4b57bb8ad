#pragma once
// Work a service does on a thread of its own every so often, off the request and scrape
// paths: counting rows for gauges, re-sending what is stuck. One step at a time; stop()
// (and the destructor) cuts the wait short and returns once a running step has finished.
// Declare it after everything its step uses, so it stops before they go.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sales::service {

class Periodic {
 public:
  enum class First { Now, AfterInterval };  // the first step at start(), or one interval later

  // `step` handles its own errors: an exception escaping it ends the process.
  Periodic(std::chrono::milliseconds every, std::function<void()> step, First first = First::Now);
  ~Periodic();  // stops
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void start();  // a second call does nothing
  void stop();

 private:
  void run(std::stop_token st);

  std::chrono::milliseconds every_;
  std::function<void()> step_;
  First first_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace sales::service

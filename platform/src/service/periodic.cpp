#include "sales/service/periodic.hpp"

#include <utility>

namespace sales::service {

Periodic::Periodic(std::chrono::milliseconds every, std::function<void()> step, First first)
    : every_(every), step_(std::move(step)), first_(first) {}

Periodic::~Periodic() { stop(); }

void Periodic::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

void Periodic::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void Periodic::run(std::stop_token st) {
  bool wait = first_ == First::AfterInterval;
  while (!st.stop_requested()) {
    if (wait) {
      std::unique_lock lock(mu_);
      // Returns early only on a stop request (the predicate never holds).
      wake_.wait_for(lock, st, every_, [] { return false; });
      if (st.stop_requested()) break;
    }
    step_();
    wait = true;
  }
}

}  // namespace sales::service

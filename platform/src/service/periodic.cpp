#include "sales/service/periodic.hpp"

#include <exception>
#include <utility>

#include "sales/log/log.hpp"

namespace sales::service {

std::function<void()> warning_on_failure(std::string what, std::function<void()> step) {
  return [what = std::move(what), step = std::move(step)] {
    try {
      step();
    } catch (const std::exception& e) {
      log::warn("{} failed, the next round retries: {}", what, e.what());
    }
  };
}

Periodic::Periodic(std::chrono::milliseconds every, std::function<void()> step, First first)
    : Periodic(every, [step = std::move(step)](Cause) { step(); }, Options{.first = first}) {}

Periodic::Periodic(std::chrono::milliseconds every, std::function<void(Cause)> step, Options opts)
    : every_(every), step_(std::move(step)), opts_(opts) {}

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

void Periodic::wake() noexcept {
  // Only the first wake after a step began notifies; the waiter checks the flag under the
  // mutex, so taking it here means no wake is lost between its check and its wait.
  if (woken_.exchange(true)) return;
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void Periodic::run(std::stop_token st) {
  bool wait = opts_.first == First::AfterInterval;
  while (!st.stop_requested()) {
    if (wait && !wait_for_next_step(st)) break;
    // Cleared before the step reads its work: what was announced before this point is
    // visible to the step, what is announced after wakes the next one.
    const bool woken = woken_.exchange(false);
    step_(woken ? Cause::Woken : Cause::Interval);
    wait = true;
  }
  if (opts_.last_step_if_woken && woken_.exchange(false)) step_(Cause::Stopping);
}

bool Periodic::wait_for_next_step(std::stop_token st) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, st, every_, [this] { return woken_.load(); });
  if (st.stop_requested()) return false;
  if (woken_.load() && opts_.gather.count() > 0) {
    // Later wakes only find the flag set, so only a stop request ends the gathering early.
    cv_.wait_for(lock, st, opts_.gather, [] { return false; });
    if (st.stop_requested()) return false;
  }
  return true;
}

}  // namespace sales::service

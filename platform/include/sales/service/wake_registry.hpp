#pragma once
// The threads of this process to wake when something they wait for has happened on another
// thread: a COMMIT that wrote rows they move on (the outbox relay, inventory's stock feed).
// Waking the process's own threads replaced NOTIFY (docs/saga.md); what another process
// commits, each waiter finds by a slow poll of its own.
//
// One registry per kind of commit, kept as a function-local static next to a plain function
// that wakes it, so that a transaction can pass that function to
// pg::Transaction::after_commit_once and wake everyone once however often it registers it.
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace sales::service {

class WakeRegistry {
 public:
  // Keeps a waker registered until it is destroyed or reset. Once reset() returns, the waker
  // is not running and never runs again, so its owner may go.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept { *this = std::move(other); }
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }

    void reset() noexcept;
    [[nodiscard]] bool active() const { return registry_ != nullptr; }

   private:
    friend class WakeRegistry;
    Registration(WakeRegistry* registry, std::uint64_t id) : registry_(registry), id_(id) {}

    WakeRegistry* registry_ = nullptr;
    std::uint64_t id_ = 0;
  };

  WakeRegistry() = default;
  WakeRegistry(const WakeRegistry&) = delete;
  WakeRegistry& operator=(const WakeRegistry&) = delete;

  // `wake` runs on the committing thread, under the registry's lock: it must be cheap (a
  // flag, a notify, an eventfd write) and must not throw.
  [[nodiscard]] Registration add(std::function<void()> wake);
  // Calls every registered waker. Never throws.
  void wake_all() noexcept;

 private:
  void remove(std::uint64_t id) noexcept;

  std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> wakers_;
};

}  // namespace sales::service

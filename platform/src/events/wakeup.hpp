#pragma once
// How an enqueue wakes the relay of its own process after COMMIT. It replaced
// pg_notify('outbox') in the outbox INSERT: PostgreSQL serialises every notifying
// transaction of the whole cluster on one lock held through its commit's WAL flush, so
// with NOTIFY the services' business commits queued behind each other (the top wait under
// load) instead of sharing flushes. Rows written by another process (a replica that died
// before its relay ran) are found by the relay's poll.
//
// The relay waits in poll() on its LISTEN socket and this wake-up at once, so its wake-up is
// an eventfd rather than a service::Periodic; only the registry of who to wake after a
// commit is shared (service::WakeRegistry). Several relays in one process (tests) each wake.
#include "sales/service/wake_registry.hpp"

namespace sales::events::detail {

class RelayWakeup {
 public:
  RelayWakeup();  // registers
  ~RelayWakeup();
  RelayWakeup(const RelayWakeup&) = delete;
  RelayWakeup& operator=(const RelayWakeup&) = delete;

  [[nodiscard]] int fd() const { return fd_; }  // readable when woken
  void drain() const;                           // resets it after a wake
  void wake() const noexcept;                   // this relay only (its stop() does)

 private:
  int fd_;
  service::WakeRegistry::Registration registration_;  // its waker writes to fd_
};

// Wakes every relay of this process: the after-commit hook of enqueue. Never throws.
void wake_relays() noexcept;

}  // namespace sales::events::detail

#pragma once
// How an enqueue wakes the relay of its own process after COMMIT. It replaced
// pg_notify('outbox') in the outbox INSERT: PostgreSQL serialises every notifying
// transaction of the whole cluster on one lock held through its commit's WAL flush, so
// with NOTIFY the services' business commits queued behind each other (the top wait under
// load) instead of sharing flushes. Rows written by another process (a replica that died
// before its relay ran) are found by the relay's poll.
//
// Each relay owns an eventfd registered here; a commit writes to all of them, so several
// relays in one process (tests) each wake.
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
};

// Wakes every relay of this process. Cheap (a write per relay); never throws.
void wake_relays() noexcept;

}  // namespace sales::events::detail

#pragma once
// A second process of a running service, as a second Kubernetes pod would be: the same
// binary and environment (its database, its queue, the broker), its own port. For the tests
// that services scale out: consumers compete on one queue, relays share one outbox.
#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace saga {

class Replica {
 public:
  // Starts it beside the running `service` (fails the test when that one is not running).
  explicit Replica(const std::string& service);
  // Stops it as Kubernetes would (SIGTERM, then SIGKILL after 15 s).
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Until its /health/ready answers 200; false on timeout or when it has exited.
  bool wait_ready(std::chrono::milliseconds timeout) const;

 private:
  std::string service_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  mutable bool exited_ = false;  // reaped already (it stopped by itself)
};

}  // namespace saga

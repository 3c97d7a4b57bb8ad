#pragma once
// A second process of a running service, as a second Kubernetes pod would be: the same
// binary and environment (its database, its queue, the broker), its own port. For the tests
// that services scale out: consumers compete on one queue, relays share one outbox, and
// two gateways serve one system.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include <sys/types.h>

namespace saga {

class Replica {
 public:
  using Environment = std::vector<std::pair<std::string, std::string>>;
  // Starts it beside the running `service` (fails the test when that one is not running),
  // with `overrides` in place of the first process's values (a pod with other settings).
  explicit Replica(const std::string& service, const Environment& overrides = {});
  // Stops it as Kubernetes would (SIGTERM, then SIGKILL after 15 s).
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Its address once it listens (it binds port 0 and logs the port it got); before that,
  // one with port 0, which no request reaches.
  [[nodiscard]] std::string url() const;
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Until its /health/ready answers 200; false on timeout or when it has exited.
  bool wait_ready(std::chrono::milliseconds timeout) const;

 private:
  std::string service_;
  std::string log_;                 // its stdout and stderr: the service's log lines
  std::uintmax_t log_from_ = 0;     // where this replica's lines start in log_
  mutable std::uint16_t port_ = 0;  // from its "listening on" line
  pid_t pid_ = -1;
  mutable bool exited_ = false;  // reaped already (it stopped by itself)
};

}  // namespace saga

#pragma once
// A service binary started by a test as a child process: the gateway harness's own gateway,
// the saga suite's replicas. The child listens on a port of its kernel's choosing (PORT=0;
// a port probed beforehand could be taken in between) and the test reads it from the
// service's "listening on" log line.
#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

namespace sales_test {

// Starts `binary` with exactly `env` ("NAME=value" entries), its stdout and stderr appended
// to `log` (created if missing), in `cwd` when one is given. The child gets none of the
// test's file descriptors past stderr and receives `death_signal` when the test process
// dies, however it ends. Returns its pid, or -1 when fork failed.
pid_t spawn_child(const std::string& binary, const std::vector<std::string>& env, const std::string& log,
                  const std::string& cwd = {}, int death_signal = SIGKILL);

// The port of the first "listening on <host>:<port>" line (sales::service::App logs it at
// info, so LOG_LEVEL must let info through) in `log` past byte `from`; 0 if none yet.
std::uint16_t listening_port(const std::string& log, std::uintmax_t from = 0);

}  // namespace sales_test

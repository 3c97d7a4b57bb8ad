#pragma once
// The real sales-gateway binary as a child process of a gateway test.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#if __has_include("sales_test/child_process.hpp")
#include "sales_test/child_process.hpp"
#else
#include "support/sales_test/child_process.hpp"
#endif

namespace gateway_test {

using EnvMap = std::map<std::string, std::string>;

// The sales-gateway binary: next to this test binary (every executable goes to <build>/bin);
// SALES_GATEWAY_BIN overrides.
inline std::string gateway_binary() {
  if (const char* b = std::getenv("SALES_GATEWAY_BIN"); b && *b) return b;
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "sales-gateway").string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The real gateway as a child process, with exactly the environment given (plus PATH),
// its stdout and stderr in a temporary file. Dies with the test process (PDEATHSIG). It
// binds a port of its kernel's choosing (PORT=0), read from its "listening on" log line:
// a port probed beforehand could be taken by another process in between, which might even
// answer the health check in its place.
class GatewayProcess {
 public:
  GatewayProcess() = default;
  ~GatewayProcess() {
    stop();
    if (!log_path_.empty()) std::filesystem::remove(log_path_);
  }
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Starts it (PORT and LOG_LEVEL are the harness's: 0 and info, which logs the port) and
  // waits until GET /health/live answers 200.
  void start(EnvMap env) {
    stop();
    env["PORT"] = "0";
    env["LOG_LEVEL"] = "info";
    spawn(env);
    if (!wait_live(10s)) {
      stop();
      throw std::runtime_error("sales-gateway did not become live; its output:\n" + output());
    }
  }

  // SIGTERM, up to 5 s to exit, then SIGKILL.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap(5s)) {
      ::kill(pid_, SIGKILL);
      reap(5s);
    }
    pid_ = -1;
  }

  struct Exit {
    bool exited = false;
    int code = -1;
    std::string output;
  };
  // Runs the gateway with `env` and waits up to `limit` for it to exit by itself.
  Exit run_to_exit(EnvMap env, Ms limit) {
    stop();
    env["PORT"] = "0";
    spawn(env);
    Exit e;
    e.exited = reap(limit);
    e.code = exit_code_;
    if (!e.exited) stop();
    e.output = output();
    return e;
  }

  [[nodiscard]] std::string url() const { return local_url(port_); }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] bool running() { return pid_ > 0 && !reap(0ms); }
  [[nodiscard]] std::string output() const { return log_path_.empty() ? "" : read_file(log_path_); }

 private:
  void spawn(const EnvMap& given) {
    if (log_path_.empty()) {
      char tmpl[] = "/tmp/gateway-test-XXXXXX";
      int fd = ::mkstemp(tmpl);
      if (fd < 0) throw std::runtime_error("mkstemp failed");
      ::close(fd);
      log_path_ = tmpl;
    }
    std::ofstream(log_path_, std::ios::trunc).flush();  // each run's output alone
    EnvMap env = given;
    env.emplace("PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    env.emplace("BIND_HOST", "127.0.0.1");
    env.emplace("SALES_ENV_FILE", "/dev/null");  // no .env from wherever we run
    env.emplace("LOG_LEVEL", "warn");
    const std::string bin = gateway_binary();
    if (::access(bin.c_str(), X_OK) != 0) throw std::runtime_error("no executable gateway at " + bin);
    std::vector<std::string> pairs;
    for (const auto& [k, v] : env) pairs.push_back(k + "=" + v);
    pid_ = sales_test::spawn_child(bin, pairs, log_path_);
    if (pid_ < 0) throw std::runtime_error("fork failed");
    exit_code_ = -1;
    port_ = 0;
  }

  // True when the child has exited (and is reaped) within `limit`.
  bool reap(Ms limit) {
    if (pid_ <= 0) return true;
    auto until = Clock::now() + limit;
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pid_ = -1;
        return true;
      }
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(10ms);
    }
  }

  // Until it has logged its port and answers GET /health/live with 200; false when it
  // exited first or the time ran out.
  bool wait_live(Ms limit) {
    return eventually(
        [&] {
          if (pid_ <= 0 || reap(0ms)) return true;  // exited: stop waiting (the caller checks)
          if (port_ == 0) port_ = sales_test::listening_port(log_path_);
          if (port_ == 0) return false;
          try {
            return get(url(), "/health/live", {}, 500ms).status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        limit, 20ms) &&
           pid_ > 0;
  }

  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

}  // namespace gateway_test

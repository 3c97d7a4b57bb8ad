#pragma once
// What the gateway's integration tests are made of (header-only: the build compiles only
// test/*_test.cpp):
//   FakeUpstream    a real HTTP server (the platform's sync sales::http::Server) whose faults
//                   the test sets through atomics: fail with a status (always, or the first N
//                   requests), delay, and which records every request it receives;
//   ResetServer     a TCP listener that accepts and resets every connection at once;
//   ReservedPort    a loopback port bound but not listening: connections are refused;
//   GatewayProcess  the real sales-gateway binary as a child process with a given env;
//   helpers         HTTP through a fresh client, JSON, Prometheus text, bounded polling;
//   GatewayFixture  a gateway in front of fake product and customer services.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sales/http/client.hpp"
#include "sales/http/message.hpp"
#include "sales/http/server.hpp"
// sales_test_support exports platform/test as its include directory, so the header is
// "support/sales_test/env.hpp" there; "sales_test/env.hpp" should that change.
#if __has_include("sales_test/env.hpp")
#include "sales_test/env.hpp"
#include "sales_test/metrics_text.hpp"
#include "sales_test/sockets.hpp"
#else
#include "support/sales_test/env.hpp"
#include "support/sales_test/metrics_text.hpp"
#include "support/sales_test/sockets.hpp"
#endif

namespace gateway_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using sales::http::Headers;
using sales::http::Request;
using sales::http::Response;

inline Ms since(Clock::time_point t) { return std::chrono::duration_cast<Ms>(Clock::now() - t); }

// Polls `done` every `every` until it holds or `limit` has passed; true when it held.
inline bool eventually(const std::function<bool()>& done, Ms limit, Ms every = 50ms) {
  auto until = Clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(every);
  }
}

// ------------------------------------------------------------------------------- sockets

using sales_test::bound_socket;  // sales_test/sockets.hpp
using sales_test::loopback;
using sales_test::port_of;

// A port that was free a moment ago (bound to port 0, then closed): for the gateway to listen on.
inline std::uint16_t free_port() {
  int fd = bound_socket();
  auto port = port_of(fd);
  ::close(fd);
  return port;
}

inline std::string local_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// Bound and never listening: every connection is refused, and no one else can take the port.
class ReservedPort {
 public:
  ReservedPort() : fd_(bound_socket()), port_(port_of(fd_)) {}
  ~ReservedPort() { ::close(fd_); }
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url() const { return local_url(port_); }

 private:
  int fd_;
  std::uint16_t port_;
};

// Accepts every connection and closes it at once with a reset (SO_LINGER 0): the upstream
// "dies" mid-exchange. Counts the connections it saw.
class ResetServer {
 public:
  ResetServer() : fd_(bound_socket()), port_(port_of(fd_)) {
    if (::listen(fd_, 64) != 0) throw std::runtime_error("listen() failed");
    thread_ = std::thread([this] { loop(); });
  }
  ~ResetServer() {
    stopping_ = true;
    thread_.join();
    ::close(fd_);
  }
  ResetServer(const ResetServer&) = delete;
  ResetServer& operator=(const ResetServer&) = delete;
  [[nodiscard]] std::string url() const { return local_url(port_); }
  [[nodiscard]] int connections() const { return connections_.load(); }

 private:
  void loop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      linger l{1, 0};
      ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::close(c);
    }
  }

  int fd_;
  std::uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// ------------------------------------------------------------------------- fake upstream

struct Received {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
  Clock::time_point at;  // when the handler started: the whole request had arrived
};

// A service the test controls. Each request: recorded, then delayed by delay_ms, then
// answered with fail_status while the fault applies (fail_first < 0: always; otherwise the
// first fail_first requests since the last reset()), else with `status`.
class FakeUpstream {
 public:
  std::atomic<int> status{200};
  std::atomic<int> fail_status{0};  // 0: no fault
  std::atomic<int> fail_first{-1};
  std::atomic<int> delay_ms{0};
  std::atomic<std::size_t> pad_bytes{0};  // answers carry a "pad" string this long

  // port 0: any free port; another: that one (a service restarting where it was).
  explicit FakeUpstream(std::string name = "fake", std::uint16_t port = 0)
      : name_(std::move(name)), server_(options(port), [this](Request& r) { return handle(r); }) {
    server_.start();
  }
  ~FakeUpstream() {
    stopping_ = true;  // delayed handlers return at once, so stop() can join their threads
    server_.stop();
  }
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  [[nodiscard]] std::string url() const { return local_url(server_.port()); }
  [[nodiscard]] std::uint16_t port() const { return server_.port(); }

  // Healthy again, with an empty record.
  void reset() {
    status = 200;
    fail_status = 0;
    fail_first = -1;
    delay_ms = 0;
    pad_bytes = 0;
    std::lock_guard lock(mu_);
    log_.clear();
    max_in_flight_ = 0;
    cache_control_.clear();
  }
  // Answers carry this Cache-Control (none when empty).
  void cache_control(std::string value) {
    std::lock_guard lock(mu_);
    cache_control_ = std::move(value);
  }
  // Fails every request with `s` (n < 0) or the next n requests only.
  void fail(int s, int n = -1) {
    fail_first = n;
    fail_status = s;
  }

  [[nodiscard]] int count() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(log_.size());
  }
  [[nodiscard]] std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  [[nodiscard]] int max_in_flight() const {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }

 private:
  static sales::http::ServerOptions options(std::uint16_t port) {
    sales::http::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.threads = 16;  // delayed handlers block a thread each
    o.service = "fake-upstream";
    return o;
  }

  Response handle(Request& req) {
    int n = 0;
    {
      std::lock_guard lock(mu_);
      n = static_cast<int>(log_.size());
      log_.push_back({req.method, req.target, req.headers, req.body, Clock::now()});
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    }
    auto until = Clock::now() + Ms(delay_ms.load());
    while (!stopping_ && Clock::now() < until) std::this_thread::sleep_for(2ms);
    int fs = fail_status.load();
    int ff = fail_first.load();
    Response r;
    if (fs != 0 && (ff < 0 || n < ff)) {
      r = Response::json(fs, R"({"type":"about:blank","status":)" + std::to_string(fs) + R"(,"detail":"injected"})");
      r.headers.set("Content-Type", "application/problem+json");
    } else {
      r = Response::json(status.load(), R"({"upstream":")" + name_ + R"(","n":)" + std::to_string(n) +
                                            R"(,"pad":")" + std::string(pad_bytes.load(), 'x') + "\"}");
    }
    r.headers.set("X-Fake-Upstream", name_);
    if (req.method == "HEAD") r.body.clear();
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      if (!cache_control_.empty()) r.headers.set("Cache-Control", cache_control_);
    }
    return r;
  }

  std::string name_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<Received> log_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::string cache_control_;
  sales::http::Server server_;  // last: its threads call handle(), which uses the above
};

// ------------------------------------------------------------------------------- HTTP

// One request on a fresh connection (so no pooled connection can blur what is counted).
inline Response send(const std::string& base, const std::string& method, const std::string& target,
                     const Headers& headers = {}, std::string body = {}, Ms timeout = 15s) {
  sales::http::Client client({.base_url = base, .max_idle = 1, .timeout = timeout, .body_limit = 64 << 20});
  Request req;
  req.method = method;
  req.target = target;
  req.headers = headers;
  if (!body.empty() && !req.headers.get("Content-Type")) req.headers.set("Content-Type", "application/json");
  req.body = std::move(body);
  return client.send(std::move(req));
}

inline Response get(const std::string& base, const std::string& target, const Headers& headers = {}, Ms timeout = 15s) {
  return send(base, "GET", target, headers, {}, timeout);
}

inline std::string header(const Response& r, std::string_view name) {
  return std::string(r.headers.get(name).value_or(""));
}

// A problem+json answer with `status`, carrying an X-Request-Id like every answer (DESIGN
// §2), the ones the gateway makes itself (429, 502, 503, 504) included.
inline bool is_problem(const Response& r, int status) {
  if (r.status != status || header(r, "Content-Type") != "application/problem+json") return false;
  if (header(r, "X-Request-Id").empty()) return false;
  try {
    auto v = boost::json::parse(r.body);
    return v.as_object().at("status").to_number<int>() == status;
  } catch (const std::exception&) {
    return false;
  }
}

inline std::string problem_detail(const Response& r) {
  try {
    auto v = boost::json::parse(r.body);
    if (auto* d = v.as_object().if_contains("detail")) return std::string(d->as_string());
  } catch (const std::exception&) {
  }
  return {};
}

// Retry-After / X-Request-Budget-Ms as an integer; nullopt when absent or not a plain integer.
inline std::optional<long> int_header(const Response& r, std::string_view name) {
  auto v = r.headers.get(name);
  if (!v || v->empty()) return std::nullopt;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stol(std::string(*v));
}

inline std::optional<long> int_header(const Headers& h, std::string_view name) {
  Response r;
  r.headers = h;
  return int_header(r, name);
}

// One upstream's entry in GET /gateway/circuit-breakers.
inline boost::json::object breaker(const std::string& gateway, const std::string& upstream) {
  auto r = get(gateway, "/gateway/circuit-breakers");
  if (r.status != 200) throw std::runtime_error("GET /gateway/circuit-breakers: " + std::to_string(r.status));
  return boost::json::parse(r.body).as_object().at(upstream).as_object();
}

inline std::string breaker_state(const std::string& gateway, const std::string& upstream) {
  return std::string(breaker(gateway, upstream).at("state").as_string());
}

inline std::int64_t breaker_field(const std::string& gateway, const std::string& upstream, const char* field) {
  return breaker(gateway, upstream).at(field).to_number<std::int64_t>();
}

// A sample in Prometheus text: the reader every suite uses.
using sales_test::metric_sum;

inline std::string metrics_text(const std::string& gateway) { return get(gateway, "/metrics").body; }

// ------------------------------------------------------------------------ the gateway

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
// its stdout and stderr in a temporary file. Dies with the test process (PDEATHSIG).
class GatewayProcess {
 public:
  GatewayProcess() = default;
  ~GatewayProcess() {
    stop();
    if (!log_path_.empty()) std::filesystem::remove(log_path_);
  }
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Starts it listening on a free port and waits until GET /health/live answers 200.
  void start(EnvMap env) {
    stop();
    for (int tries = 0;; ++tries) {
      port_ = free_port();
      env["PORT"] = std::to_string(port_);
      spawn(env);
      if (wait_live(10s)) return;
      bool exited = reap(0ms);
      if (!exited || tries == 2) {
        stop();
        throw std::runtime_error("sales-gateway did not become live; its output:\n" + output());
      }
      // It exited: maybe someone took the port in between; try another.
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
    env["PORT"] = std::to_string(free_port());
    spawn(env);
    Exit e;
    e.exited = reap(limit);
    e.code = exit_code_;
    if (!e.exited) stop();
    e.output = output();
    return e;
  }

  [[nodiscard]] std::string url() const { return local_url(port_); }
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
    EnvMap env = given;
    env.emplace("PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    env.emplace("BIND_HOST", "127.0.0.1");
    env.emplace("SALES_ENV_FILE", "/dev/null");  // no .env from wherever we run
    env.emplace("LOG_LEVEL", "warn");
    std::string bin = gateway_binary();
    if (::access(bin.c_str(), X_OK) != 0) throw std::runtime_error("no executable gateway at " + bin);
    std::vector<std::string> pairs;
    for (const auto& [k, v] : env) pairs.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& p : pairs) envp.push_back(p.data());
    envp.push_back(nullptr);
    std::vector<char*> argv{bin.data(), nullptr};
    int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      throw std::runtime_error("fork failed");
    }
    if (pid == 0) {  // only async-signal-safe calls until execve
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::syscall(SYS_close_range, 3U, ~0U, 0U);  // the test's sockets stay with the test
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log_fd);
    pid_ = pid;
    exit_code_ = -1;
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

  bool wait_live(Ms limit) {
    return eventually(
        [&] {
          if (pid_ <= 0) return true;  // exited: stop waiting (the caller checks)
          if (reap(0ms)) return true;
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

// ------------------------------------------------------------------------- fixture

// A real gateway in front of fake product and customer services; the other four upstreams
// refuse connections. Tests start it with the settings they need.
class GatewayFixture : public ::testing::Test {
 protected:
  FakeUpstream product{"product"};
  FakeUpstream customer{"customer"};
  ReservedPort dead;        // order, payment, inventory, shipping: connection refused
  GatewayProcess gateway;   // declared last: stopped before the upstreams go away
  std::string gw;           // its base URL

  EnvMap base_env() const {
    return {{"PRODUCT_SERVICE_URL", product.url()},   {"CUSTOMER_SERVICE_URL", customer.url()},
            {"ORDER_SERVICE_URL", dead.url()},        {"PAYMENT_SERVICE_URL", dead.url()},
            {"INVENTORY_SERVICE_URL", dead.url()},    {"SHIPPING_SERVICE_URL", dead.url()},
            {"GATEWAY_RETRY_BASE_MS", "5"}};
  }

  void start(const EnvMap& settings = {}) {
    auto env = base_env();
    for (const auto& [k, v] : settings) env[k] = v;
    gateway.start(env);
    gw = gateway.url();
  }

  void TearDown() override {
    gateway.stop();
    if (HasFailure()) {
      auto out = gateway.output();
      if (out.size() > 6000) out = "..." + out.substr(out.size() - 6000);
      std::cerr << "---- sales-gateway output ----\n" << out << "------------------------------\n";
    }
  }

  double metric_of(const std::vector<std::pair<std::string, std::string>>& labels, const std::string& name) {
    return metric_sum(metrics_text(gw), name, labels).value_or(-1);
  }
};

}  // namespace gateway_test

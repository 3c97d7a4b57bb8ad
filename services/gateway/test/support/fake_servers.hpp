#pragma once
// Fake peers for the gateway: an upstream that fails, delays and records on request, one
// that resets every connection, and a port that refuses them.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "sales/http/server.hpp"
#include "sales/problem/problem.hpp"
#if __has_include("sales_test/sockets.hpp")
#include "sales_test/sockets.hpp"
#else
#include "support/sales_test/sockets.hpp"
#endif

namespace gateway_test {

// ------------------------------------------------------------------------------- sockets

using sales_test::bound_socket;  // sales_test/sockets.hpp
using sales_test::loopback;
using sales_test::port_of;

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

// Accepts every connection and, once the request has arrived, closes it with a reset (SO_LINGER 0): the upstream
// "dies" mid-exchange. Given a `reply`, it writes that instead and closes in order: an upstream
// that answers with something that is no HTTP. Counts the connections it saw.
class ResetServer {
 public:
  explicit ResetServer(std::string reply = {}) : reply_(std::move(reply)), fd_(bound_socket()), port_(port_of(fd_)) {
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
      // The reset comes after the request has arrived (or a second passed): reset at once, it
      // could reach the gateway before its connect completed, and then nothing was sent.
      pollfd in{c, POLLIN, 0};
      if (::poll(&in, 1, 1000) > 0) {
        char buf[4096];
        (void)::recv(c, buf, sizeof buf, MSG_DONTWAIT);
      }
      if (!reply_.empty()) {
        // Closed in order, after what is left of the request: unread bytes at close() would
        // send a reset, which the gateway might read before the reply.
        (void)::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::shutdown(c, SHUT_WR);
        char rest[4096];
        while (::poll(&in, 1, 1000) > 0 && ::recv(c, rest, sizeof rest, 0) > 0) {
        }
      } else {
        linger l{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      ::close(c);
    }
  }

  std::string reply_;
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
    date_.clear();
    dependency_.clear();
  }
  // Answers carry this Cache-Control (none when empty).
  void cache_control(std::string value) {
    std::lock_guard lock(mu_);
    cache_control_ = std::move(value);
  }
  // Answers carry this Date (the server's clock when empty).
  void date(std::string value) {
    std::lock_guard lock(mu_);
    date_ = std::move(value);
  }
  // Fails every request with `s` (n < 0) or the next n requests only.
  void fail(int s, int n = -1) {
    fail_first = n;
    fail_status = s;
  }
  // Fails every request with a 503 that names `service` as the one out, as a service whose
  // dependency is down answers (Problem::dependency_unavailable).
  void fail_for_dependency(std::string service) {
    {
      std::lock_guard lock(mu_);
      dependency_ = std::move(service);
    }
    fail(503);
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
      std::lock_guard lock(mu_);
      if (!dependency_.empty()) r.headers.set(std::string(sales::kDependencyUnavailableHeader), dependency_);
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
      if (!date_.empty()) r.headers.set("Date", date_);
    }
    return r;
  }

  std::string name_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<Received> log_;
  std::string dependency_;  // fail_for_dependency's
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::string cache_control_;
  std::string date_;
  sales::http::Server server_;  // last: its threads call handle(), which uses the above
};

}  // namespace gateway_test

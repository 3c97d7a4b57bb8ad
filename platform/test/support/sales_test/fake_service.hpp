#pragma once
// An in-process HTTP service for tests of a service's client of another (order's of customer,
// product and payment; payment's of the order service; inventory's of the product service):
// it answers every request with the reply it was given last, or the one given for its path,
// optionally after a delay, and records what it was asked.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sales/http/server.hpp"

namespace sales_test {

class FakeService {
 public:
  // `threads`: how many requests it answers at once (each waits out the delay on its own).
  explicit FakeService(std::uint16_t port = 0, int threads = 1)
      : server_({.port = port, .threads = threads}, [this](sales::http::Request& req) { return answer(req); }) {
    server_.start();
  }
  ~FakeService() { server_.stop(); }

  [[nodiscard]] std::uint16_t port() const { return server_.port(); }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  // The answer to every request (after `delay`) that reply_to() did not set one for.
  void reply(int status, std::string body, std::chrono::milliseconds delay = {}) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
    delay_ = delay;
  }
  // The answer to one path (its query aside), instead of the one reply() set.
  void reply_to(std::string path, int status, std::string body) {
    std::lock_guard lock(mu_);
    by_path_[std::move(path)] = {status, std::move(body)};
  }
  // Every answer comes this late (a service that hangs).
  void delay(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    delay_ = d;
  }
  sales::http::Request last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  // The targets asked for, in order.
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }
  int requests() {
    std::lock_guard lock(mu_);
    return static_cast<int>(targets_.size());
  }

 private:
  sales::http::Response answer(sales::http::Request& req) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      last_ = req;
      targets_.push_back(req.target);
      delay = delay_;
    }
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu_);
    if (auto it = by_path_.find(std::string(req.path())); it != by_path_.end()) {
      return sales::http::Response::json(it->second.first, it->second.second);
    }
    return sales::http::Response::json(status_, body_);
  }

  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  std::chrono::milliseconds delay_{};
  std::map<std::string, std::pair<int, std::string>> by_path_;
  std::vector<std::string> targets_;
  sales::http::Request last_;
  sales::http::Server server_;
};

}  // namespace sales_test

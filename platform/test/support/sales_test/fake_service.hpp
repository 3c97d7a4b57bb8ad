#pragma once
// An in-process HTTP service for tests of a service's client of another (payment's of the
// order service, inventory's of the product service): it answers every request with the
// reply it was given last (and records the request), optionally after a delay.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "sales/http/server.hpp"

namespace sales_test {

class FakeService {
 public:
  explicit FakeService(std::uint16_t port = 0)
      : server_({.port = port, .threads = 1}, [this](sales::http::Request& req) { return answer(req); }) {
    server_.start();
  }
  ~FakeService() { server_.stop(); }

  [[nodiscard]] std::uint16_t port() const { return server_.port(); }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  void reply(int status, std::string body, std::chrono::milliseconds delay = {}) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
    delay_ = delay;
  }
  sales::http::Request last() {
    std::lock_guard lock(mu_);
    return last_;
  }
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  sales::http::Response answer(sales::http::Request& req) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      last_ = req;
      ++requests_;
      delay = delay_;
    }
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu_);
    return sales::http::Response::json(status_, body_);
  }

  std::mutex mu_;
  int status_ = 200;
  int requests_ = 0;
  std::string body_;
  std::chrono::milliseconds delay_{};
  sales::http::Request last_;
  sales::http::Server server_;
};

}  // namespace sales_test

#pragma once
// What the server records of every request: http_requests_total and
// http_request_duration_seconds by route, method and status (server.cpp's only metrics).
#include <charconv>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sales/http/message.hpp"
#include "sales/metrics/metrics.hpp"

namespace sales::http::detail {

// Metric handles per (route, method, status), looked up once. A connection remembers the
// handles of its last request, so a keep-alive client repeating its request takes no lock.
class RequestMetrics {
 public:
  struct Handles {
    metrics::Counter* requests = nullptr;
    metrics::Histogram* duration = nullptr;
  };
  // The last request's labels, compared as they are: no key is built for a repeated request.
  struct ConnectionCache {
    std::string route;
    std::string method;
    int status = 0;
    Handles handles;
  };

  RequestMetrics(metrics::Registry* r, std::string service) : registry_(r), service_(std::move(service)) {}
  void record(const Request& req, int status, double seconds, ConnectionCache& last) {
    if (!registry_) return;
    std::string_view route = req.route.empty() ? std::string_view("unmatched") : std::string_view(req.route);
    if (last.handles.requests == nullptr || last.status != status || last.route != route || last.method != req.method) {
      thread_local std::string key;  // reused: no allocation per lookup once warm
      key.clear();
      char digits[12];
      auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
      key.append(route).append(1, ' ').append(req.method).append(1, ' ').append(digits, end);
      last.handles = lookup(key, route, req.method, status);
      last.route = route;
      last.method = req.method;
      last.status = status;
    }
    last.handles.requests->inc();
    last.handles.duration->observe(seconds);
  }

 private:
  Handles lookup(const std::string& key, std::string_view route, const std::string& method, int status) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      metrics::Labels labels{{"service", service_}, {"route", std::string(route)}, {"method", method}};
      auto* hist = &registry_->histogram("http_request_duration_seconds", "Time to answer a request", labels);
      labels.emplace_back("status", std::to_string(status));
      auto* counter = &registry_->counter("http_requests_total", "Requests answered", labels);
      it = cache_.emplace(key, Handles{counter, hist}).first;
    }
    return it->second;
  }

  metrics::Registry* registry_;
  std::string service_;
  std::mutex mu_;
  std::unordered_map<std::string, Handles> cache_;
};

}  // namespace sales::http::detail

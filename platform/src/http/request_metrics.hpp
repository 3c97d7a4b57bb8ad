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

// The method as a label: the registered methods by name, anything else "other". A parser
// takes any token of up to the header limit as a method, and each new label value would be
// a series kept for the process's life: a client could fill the memory with them.
inline std::string_view method_label(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"};
  for (auto known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

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
    std::string_view method = method_label(req.method);
    if (last.handles.requests == nullptr || last.status != status || last.route != route || last.method != method) {
      thread_local std::string key;  // reused: no allocation per lookup once warm
      key.clear();
      char digits[12];
      auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
      key.append(route).append(1, ' ').append(method).append(1, ' ').append(digits, end);
      last.handles = lookup(key, route, method, status);
      last.route = route;
      last.method = method;
      last.status = status;
    }
    last.handles.requests->inc();
    last.handles.duration->observe(seconds);
  }

 private:
  Handles lookup(const std::string& key, std::string_view route, std::string_view method, int status) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      // DESIGN: counts and latency histograms by route and status. The statuses are those the
      // handlers answer (a handful per route; the gateway passes on its upstreams').
      const metrics::Labels labels{{"service", service_},
                                   {"route", std::string(route)},
                                   {"method", std::string(method)},
                                   {"status", std::to_string(status)}};
      auto* hist = &registry_->histogram("http_request_duration_seconds", "Time to answer a request", labels);
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

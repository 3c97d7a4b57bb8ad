#pragma once
// What every part of the gateway harness uses: bounded polling, and HTTP on a fresh
// connection with readers for problems, headers, breaker state and metrics.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "sales/http/client.hpp"
#include "sales/http/message.hpp"
#include "sales_test/env.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/metrics_text.hpp"

namespace gateway_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using sales::http::Headers;
using sales::http::Request;
using sales::http::Response;
using sales_test::eventually;

inline Ms since(Clock::time_point t) { return std::chrono::duration_cast<Ms>(Clock::now() - t); }

inline std::string local_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

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

}  // namespace gateway_test

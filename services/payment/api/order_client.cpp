#include "api/order_client.hpp"

#include "sales/json/read.hpp"
#include "sales/log/log.hpp"

namespace payment {

namespace http = sales::http;
using sales::Problem;
using sales::ProblemError;

namespace {
constexpr std::size_t kMaxStatusLength = 64;
// sales::http::Client retries a dead kept-alive connection once, but on another pooled one:
// after the order service restarts, one send() can fail on two dead idle connections. So
// few are kept, and a quick failure is tried again until a fresh connection must be used;
// a slow one (a timeout: its own, or the request's deadline) is not, so a hanging order
// service costs one timeout, and the answer naming it is sent in the time kept for it.
constexpr std::size_t kMaxIdle = 4;
constexpr int kAttempts = kMaxIdle / 2 + 1;

ProblemError unavailable(const std::string& why) {
  sales::log::warn("order service unavailable: {}", why);
  return ProblemError(Problem::dependency_unavailable("order", "The order service is not available right now, so the order cannot be "
                                           "checked; try again shortly."));
}

// The order service's answer, read with the same checks as a client's body.
OrderSnapshot decode_order(std::int64_t order_id, std::string_view body) {
  try {
    auto obj = sales::json::parse_object(body);
    sales::json::FieldReader in(obj);
    auto status = in.string("status", true, kMaxStatusLength, 1);
    auto total = in.money("total", true);
    in.finish();
    return OrderSnapshot{order_id, *status, *total};
  } catch (const ProblemError& e) {
    sales::log::error("order service answered GET /orders/{} with an unreadable order: {}", order_id, e.what());
    throw ProblemError(Problem::bad_gateway("The order service's answer about order " + std::to_string(order_id) +
                                            " could not be understood."));
  }
}
}  // namespace

OrderClientOptions order_client_options(sales::config::Env& env) {
  OrderClientOptions o;
  o.base_url = http::base_url_from_env(env, "ORDER_SERVICE_URL", o.base_url);
  o.timeout = env.millis("ORDER_SERVICE_TIMEOUT_MS", o.timeout.count(), 10, 60'000);
  return o;
}

OrderClient::OrderClient(const OrderClientOptions& opts)
    : client_({.base_url = opts.base_url, .max_idle = kMaxIdle, .timeout = opts.timeout}), timeout_(opts.timeout) {}

std::optional<OrderSnapshot> OrderClient::find(std::int64_t order_id, const http::Request& cause) {
  http::Headers headers;
  headers.set("Accept", "application/json");
  http::forward_trace(cause, headers);
  auto started = std::chrono::steady_clock::now();
  http::Response res;
  for (int attempt = 1;; ++attempt) {
    try {
      res = client_.get("/orders/" + std::to_string(order_id), headers);
      break;
    } catch (const http::ClientError& e) {
      bool quick = std::chrono::steady_clock::now() - started < timeout_ / 2;
      if (attempt >= kAttempts || !quick || e.timed_out()) throw unavailable(e.what());
    }
  }
  if (res.status == 404) return std::nullopt;
  if (res.status != 200) {
    throw unavailable("GET /orders/" + std::to_string(order_id) + " answered " + std::to_string(res.status));
  }
  return decode_order(order_id, res.body);
}

}  // namespace payment

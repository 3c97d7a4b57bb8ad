#pragma once
// The payment service's one synchronous dependency: GET ORDER_SERVICE_URL/orders/{id}
// (docs/saga.md, "Synchronous calls"), with the caller's X-Request-Id and traceparent.
#include <chrono>
#include <optional>
#include <string>

#include "domain/payment.hpp"
#include "sales/config/config.hpp"
#include "sales/http/client.hpp"

namespace payment {

struct OrderClientOptions {
  std::string base_url = "http://127.0.0.1:8002";
  std::chrono::milliseconds timeout{2000};  // inside the gateway's 5 s deadline, with room to retry
};

// ORDER_SERVICE_URL and ORDER_SERVICE_TIMEOUT_MS, validated (errors reported at start).
OrderClientOptions order_client_options(sales::config::Env& env);

class OrderClient {
 public:
  explicit OrderClient(const OrderClientOptions& opts);

  // The order, or nullopt when the order service says it does not exist (404).
  // Throws ProblemError 503 when the order service cannot be reached, times out or fails
  // (5xx or any other unexpected answer), and 502 when its answer makes no sense.
  std::optional<OrderSnapshot> find(std::int64_t order_id, const sales::http::Request& cause);

 private:
  sales::http::Client client_;
  std::chrono::milliseconds timeout_;
};

}  // namespace payment

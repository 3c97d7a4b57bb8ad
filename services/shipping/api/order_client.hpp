#pragma once
// Shipping's synchronous calls to the order service (docs/saga.md): GET /orders/{id} for
// POST /shipping when the order has no shipment yet, and the ship handshake.
#include <optional>
#include <string>
#include <string_view>

#include "sales/config/config.hpp"
#include "sales/http/client.hpp"

namespace shipping {

// What shipping needs to know of an order.
struct OrderSnapshot {
  std::string status;
  std::optional<std::string> shipping_address;
};

// Reads an order from the order service's GET body; nullopt when it is not an order.
std::optional<OrderSnapshot> parse_order(std::string_view body);

// ORDER_SERVICE_URL (default http://127.0.0.1:8002), validated: an invalid value is
// reported by the app at start like every other bad variable.
std::string order_service_url(sales::config::Env& env);

class OrderClient {
 public:
  explicit OrderClient(const std::string& base_url);
  // nullopt: no such order. Throws ProblemError 503 when the order service cannot answer
  // (unreachable, timed out, failing, or answering nonsense). Forwards X-Request-Id and
  // traceparent of `incoming`.
  std::optional<OrderSnapshot> fetch(std::int64_t order_id, const sales::http::Request& incoming);
  // Asks the order service to move the order PAID → SHIPPED before the shipment ships, so
  // a cancel or refund racing the shipment cannot both win: 409 ProblemError, in the order
  // service's words, when the order is not PAID (not yet, or no longer); 503 when the order
  // service cannot answer.
  void ship(std::int64_t order_id, std::int64_t shipment_id, const sales::http::Request& incoming);

 private:
  sales::http::Client client_;
};

}  // namespace shipping

#include "api/order_client.hpp"

#include <boost/json/parse.hpp>

#include "sales/events/envelope.hpp"
#include "sales/log/log.hpp"
#include "sales/problem/problem.hpp"

namespace shipping {

namespace http = sales::http;
using sales::Problem;
using sales::ProblemError;

namespace {
constexpr const char* kDefaultOrderServiceUrl = "http://127.0.0.1:8002";
// Well inside the gateway's 5 s deadline, so a slow order service is our 503, not its 504.
constexpr std::chrono::milliseconds kOrderServiceTimeout{2000};

ProblemError order_service_unavailable() {
  return ProblemError(Problem::dependency_unavailable("order", "The order service cannot be reached right now; try again shortly."));
}

// The detail of the order service's problem answer; "" when it has none worth repeating.
std::string problem_detail(std::string_view body) {
  constexpr std::size_t kMaxDetail = 300;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const auto* detail = v.as_object().if_contains("detail");
  if (!detail || !detail->is_string() || detail->as_string().size() > kMaxDetail) return {};
  return std::string(detail->as_string());
}
}  // namespace

std::optional<OrderSnapshot> parse_order(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const auto* status = o.if_contains("status");
  if (!status || !status->is_string()) return std::nullopt;
  OrderSnapshot out{std::string(status->as_string()), std::nullopt};
  if (const auto* address = o.if_contains("shipping_address"); address && !address->is_null()) {
    if (!address->is_string()) return std::nullopt;
    out.shipping_address = std::string(address->as_string());
  }
  return out;
}

std::string order_service_url(sales::config::Env& env) {
  return http::base_url_from_env(env, "ORDER_SERVICE_URL", kDefaultOrderServiceUrl);
}

OrderClient::OrderClient(const std::string& base_url)
    : client_(http::ClientOptions{.base_url = base_url, .timeout = kOrderServiceTimeout}) {}

namespace {
http::Headers forwarded(const http::Request& incoming) {
  http::Headers headers;
  http::forward_trace(incoming, headers);
  return headers;
}
}  // namespace

void OrderClient::ship(std::int64_t order_id, std::int64_t shipment_id, const http::Request& incoming) {
  std::string target = "/internal/orders/" + std::to_string(order_id) + "/ship";
  auto headers = forwarded(incoming);
  // The order answers a repeat for a SHIPPED order with 200 and changes nothing: the key
  // says this call is safe to send again, so the client may resend it on a fresh connection
  // when a kept-alive one was closed under it (DESIGN §5: only a POST with a key is
  // repeated). One key per call: were the order service ever to record keys, a later call
  // (after a 409) must not get this one's answer.
  headers.set("Idempotency-Key", "ship-" + sales::events::new_uuid());
  http::Response res;
  try {
    res = client_.post(target, R"({"reason":"shipment )" + std::to_string(shipment_id) + R"( shipped"})", headers);
  } catch (const http::ClientError& e) {
    sales::log::warn("POST {} failed: {}", target, e.what());
    if (!e.timed_out()) throw order_service_unavailable();
    // The order service may have shipped the order and not answered in time: a repeat asks
    // again (it answers 200 for a SHIPPED order), and otherwise its order.shipped ships this.
    throw ProblemError(Problem::dependency_unavailable(
        "order", "Shipment " + std::to_string(shipment_id) + " is not shipped yet: the order service did not answer in time. "
                 "If it shipped the order, the shipment follows shortly; repeating the request is safe."));
  }
  if (res.status == 200) return;
  if (res.status == 409 || res.status == 404) {
    // The order's own words ("Order 5 is CONFIRMED; only a PAID order can be shipped.").
    auto why = problem_detail(res.body);
    throw ProblemError(Problem::conflict("Shipment " + std::to_string(shipment_id) + " cannot ship: " +
                                         (why.empty() ? "order " + std::to_string(order_id) + " is not PAID." : why)));
  }
  sales::log::warn("POST {} answered {}", target, res.status);
  if (auto why = problem_detail(res.body); res.status == 503 && !why.empty()) {
    // The order service is up but cannot decide now (the payment service it asks is down,
    // its database, a start): its words point the client and the operator at what is out.
    throw ProblemError(Problem::dependency_unavailable("order", "Shipment " + std::to_string(shipment_id) +
                                                                 " cannot ship now; the order service answered: " + why));
  }
  throw order_service_unavailable();
}

std::optional<OrderSnapshot> OrderClient::fetch(std::int64_t order_id, const http::Request& incoming) {
  auto headers = forwarded(incoming);
  http::Response res;
  try {
    res = client_.get("/orders/" + std::to_string(order_id), headers);
  } catch (const http::ClientError& e) {
    sales::log::warn("GET /orders/{} failed: {}", order_id, e.what());
    throw order_service_unavailable();
  }
  if (res.status == 404) return std::nullopt;
  if (res.status != 200) {
    sales::log::warn("GET /orders/{} answered {}", order_id, res.status);
    throw order_service_unavailable();
  }
  auto order = parse_order(res.body);
  if (!order) {
    sales::log::error("GET /orders/{} answered 200 with a body that is not an order", order_id);
    throw order_service_unavailable();
  }
  return order;
}

}  // namespace shipping

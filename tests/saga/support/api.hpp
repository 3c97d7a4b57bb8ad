#pragma once
// Client helpers for the saga tests. Every business call goes through the gateway
// (SALES_GATEWAY_URL); a few operator calls (metrics, readiness) go to one service directly.
// Responses come back as status + headers + raw body + parsed JSON. Thread-safe: the
// underlying sales::http::Client pools its connections behind a mutex. The calls are in
// api.cpp; what is built on them (observing, composite steps, assertions, metrics) in
// steps.cpp.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sales/http/message.hpp"

namespace saga {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Res {
  int status = 0;             // 0: no HTTP answer at all (connection error, timeout)
  std::string error;          // why there was no answer
  sales::http::Headers headers;
  std::string body;           // raw bytes, for exact comparisons (money)
  boost::json::value json;    // null unless the body is JSON

  [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
  [[nodiscard]] std::string header(std::string_view name) const;
  [[nodiscard]] const boost::json::value& at(std::string_view key) const;  // null when absent
  [[nodiscard]] std::string str(std::string_view key) const;               // "" unless a string
  [[nodiscard]] std::int64_t id() const;                                   // "id", or 0
};
std::ostream& operator<<(std::ostream& os, const Res& r);
void PrintTo(const Res& r, std::ostream* os);

using Headers = std::vector<std::pair<std::string, std::string>>;

// Through the gateway. Never throws for transport errors: status 0 and `error` instead.
Res request(const std::string& method, const std::string& target, const std::string& body = {},
            const Headers& extra = {});
Res get(const std::string& target);
Res post(const std::string& target, const std::string& json_body, const Headers& extra = {});
Res put(const std::string& target, const std::string& json_body, const Headers& extra = {});
// Directly to a service: name is product, order, customer, payment, inventory, shipping.
Res service_request(const std::string& service, const std::string& method, const std::string& target,
                    const std::string& body = {});
Res service_get(const std::string& service, const std::string& target);
// The base URL of a service (SALES_<NAME>_URL, as ./sales test exports it).
std::string service_url(const std::string& service);
// To the process at `base_url` (e.g. a Replica's); status 0 when nothing answers.
Res request_at(const std::string& base_url, const std::string& method, const std::string& target,
               const std::string& body = {}, const Headers& extra = {});
Res get_at(const std::string& base_url, const std::string& target);
// The RabbitMQ management API (SALES_AMQP_MANAGEMENT_URL), as the broker sees its topology:
// e.g. "/api/queues/%2F/order_queue".
Res broker_management_get(const std::string& path);

// JSON helpers.
std::int64_t int_of(const boost::json::value& v);       // 0 unless an integer
std::int64_t cents_of(const boost::json::value& v);      // a money number -> cents; -1 if not a number
std::string str_of(const boost::json::value& v);         // "" unless a string
const boost::json::value& member(const boost::json::value& v, std::string_view key);

// Money literal from cents: 30 -> "0.30".
std::string money(std::int64_t cents);
std::string unique(std::string_view prefix);  // prefix + random suffix
std::string new_key();                        // a fresh Idempotency-Key

// ---------------------------------------------------------------- fixtures

// POST /products (price as a literal, e.g. "0.10"); fails the test unless 201. When
// `wait_inventory`, waits until the inventory service knows the product (its stock row
// exists with that stock), so an order placed next is not racing product.created.
std::int64_t create_product(std::int64_t price_cents, std::int64_t stock, bool wait_inventory = true);
// POST /customers with a unique email and the given address; fails unless 201.
std::int64_t create_customer(const std::string& address = "1 Saga Street, Springfield");

struct Line {
  std::int64_t product_id;
  std::int64_t quantity;
};
// The body of POST /orders: {customer_id, items:[{product_id, quantity}...]}.
std::string order_body(std::int64_t customer_id, const std::vector<Line>& lines);
// POST /orders {customer_id, items:[...]} (optionally with an Idempotency-Key).
Res place_order(std::int64_t customer_id, const std::vector<Line>& lines, const std::string& idempotency_key = {});
// The seed's form {customer_id, product_id, quantity}.
Res place_single(std::int64_t customer_id, std::int64_t product_id, std::int64_t quantity);

// ---------------------------------------------------------------- observing

// GET until pred(response) holds or the timeout passes; returns the last response.
Res poll(const std::string& target, const std::function<bool(const Res&)>& pred, std::chrono::milliseconds timeout);
// GET /orders/{id} until its status is one of `statuses` (timeout -> last response; the
// caller asserts on it).
Res wait_order(std::int64_t order_id, std::initializer_list<std::string_view> statuses,
               std::chrono::milliseconds timeout = 20s);
// The order's status, or "" when it cannot be read.
std::string order_status(std::int64_t order_id);
// GET /inventory/stock/{product_id}: its stock, or nullopt (404 or error).
std::optional<std::int64_t> inventory_stock(std::int64_t product_id);
// Waits until the inventory's stock equals `expected` (timeout -> last value seen).
std::optional<std::int64_t> wait_stock(std::int64_t product_id, std::int64_t expected, std::chrono::milliseconds timeout = 10s);
// GET /inventory/reservations/{order_id} until its status is one of `statuses`: inventory has
// handled the order's events that far (timeout -> last response).
Res wait_reservation(std::int64_t order_id, std::initializer_list<std::string_view> statuses,
                     std::chrono::milliseconds timeout = 20s);
// The order's shipment from GET /shipping?order_id= (null when none); `count` gets the number found.
boost::json::value shipment_of(std::int64_t order_id, std::size_t* count = nullptr);
// Waits until the order's shipment exists with that status; returns it (or the last seen).
boost::json::value wait_shipment(std::int64_t order_id, std::string_view status, std::chrono::milliseconds timeout = 20s);
// GET /payments?order_id=...: the items.
std::vector<boost::json::value> payments_of(std::int64_t order_id);
// The payment's status via GET /payments/{id} until one of `statuses`.
Res wait_payment(std::int64_t payment_id, std::initializer_list<std::string_view> statuses,
                 std::chrono::milliseconds timeout = 20s);

// Statuses in the order's history, oldest first.
std::vector<std::string> history_statuses(const Res& order);
// The reason recorded for the (last) history entry with `status`, or nullopt.
std::optional<std::string> history_reason(const Res& order, std::string_view status);

// ---------------------------------------------------------------- composite steps

// Places an order and waits until CONFIRMED (fails the test otherwise); returns the order.
Res confirmed_order(std::int64_t customer_id, const std::vector<Line>& lines);
// POST /payments {order_id, amount=total} then PUT confirm; waits until the order is PAID.
// Returns the payment id (0 on failure; the test has failed then).
std::int64_t pay(std::int64_t order_id, std::int64_t total_cents);
// A PAID order of one `product` whose shipment shipping already knows to be payable
// (order_paid), so a PUT SHIPPED is legal right now. Returns {order, shipment id}.
std::pair<Res, std::int64_t> paid_and_payable(std::int64_t customer_id, std::int64_t product,
                                              std::int64_t* payment_id = nullptr);
// PUT /shipping/{id} {status}, retrying a 409 for up to `timeout` while the shipment is
// waiting for order.paid to arrive (the PUT is only legal once shipping has seen it).
Res ship_status(std::int64_t shipment_id, std::string_view status, std::chrono::milliseconds retry_409_for = 0ms);

// Assertion helpers.
// An RFC 9457 problem with this status, as DESIGN §2 has it (sales_test/problem_check.hpp).
::testing::AssertionResult is_problem(const Res& r, int status);
// A problem (400 unless said) whose errors[] names `field`.
::testing::AssertionResult has_field_error(const Res& r, std::string_view field, int status = 400);
::testing::AssertionResult has_status(const Res& order, std::string_view status);

// Service metrics: the sum of the samples of `name` whose labels include every one given
// (sales_test::metric_sum); 0 when none, -1 when /metrics does not answer.
double metric_value(const std::string& service, const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& labels = {});
// The same from the process at `base_url` (e.g. a Replica's).
double metric_value_at(const std::string& base_url, const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& labels = {});

}  // namespace saga

// The saga tests' steps over the client calls of api.cpp: waiting for a state, composite
// steps (a confirmed order, a payment), assertions and metrics.
#include <algorithm>
#include <thread>

#include "sales_test/metrics_text.hpp"
#include "sales_test/problem_check.hpp"
#include "support/api.hpp"

namespace saga {

// ---------------------------------------------------------------- observing

Res poll(const std::string& target, const std::function<bool(const Res&)>& pred, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto pause = 20ms;
  for (;;) {
    Res r = get(target);
    if (pred(r) || Clock::now() >= deadline) return r;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, 250ms);
  }
}

namespace {
// GET `target` until its "status" is one of `statuses`.
Res wait_status(const std::string& target, std::initializer_list<std::string_view> statuses,
                std::chrono::milliseconds timeout) {
  std::vector<std::string> want(statuses.begin(), statuses.end());
  return poll(
      target,
      [&](const Res& r) {
        return r.status == 200 && std::find(want.begin(), want.end(), r.str("status")) != want.end();
      },
      timeout);
}
}  // namespace

Res wait_order(std::int64_t order_id, std::initializer_list<std::string_view> statuses, std::chrono::milliseconds timeout) {
  return wait_status("/orders/" + std::to_string(order_id), statuses, timeout);
}

std::string order_status(std::int64_t order_id) {
  Res r = get("/orders/" + std::to_string(order_id));
  return r.status == 200 ? r.str("status") : std::string();
}

std::optional<std::int64_t> inventory_stock(std::int64_t product_id) {
  Res r = get("/inventory/stock/" + std::to_string(product_id));
  if (r.status != 200 || !r.at("stock").is_number()) return std::nullopt;
  return int_of(r.at("stock"));
}

std::optional<std::int64_t> wait_stock(std::int64_t product_id, std::int64_t expected, std::chrono::milliseconds timeout) {
  Res r = poll(
      "/inventory/stock/" + std::to_string(product_id),
      [&](const Res& x) { return x.status == 200 && int_of(x.at("stock")) == expected && x.at("stock").is_number(); },
      timeout);
  if (r.status != 200 || !r.at("stock").is_number()) return std::nullopt;
  return int_of(r.at("stock"));
}

Res wait_reservation(std::int64_t order_id, std::initializer_list<std::string_view> statuses,
                     std::chrono::milliseconds timeout) {
  return wait_status("/inventory/reservations/" + std::to_string(order_id), statuses, timeout);
}

boost::json::value shipment_of(std::int64_t order_id, std::size_t* count) {
  Res r = get("/shipping?order_id=" + std::to_string(order_id));
  if (count) *count = 0;
  const auto& items = r.at("items");
  if (r.status != 200 || !items.is_array()) return nullptr;
  std::size_t n = 0;
  boost::json::value found;
  for (const auto& s : items.as_array()) {
    if (int_of(member(s, "order_id")) == order_id) {
      ++n;
      if (found.is_null()) found = s;
    }
  }
  if (count) *count = n;
  return found;
}

boost::json::value wait_shipment(std::int64_t order_id, std::string_view status, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto s = shipment_of(order_id);
    if ((!s.is_null() && str_of(member(s, "status")) == status) || Clock::now() >= deadline) return s;
    std::this_thread::sleep_for(100ms);
  }
}

std::vector<boost::json::value> payments_of(std::int64_t order_id) {
  Res r = get("/payments?order_id=" + std::to_string(order_id));
  std::vector<boost::json::value> out;
  const auto& items = r.at("items");
  if (r.status != 200 || !items.is_array()) return out;
  for (const auto& p : items.as_array()) out.push_back(p);
  return out;
}

Res wait_payment(std::int64_t payment_id, std::initializer_list<std::string_view> statuses, std::chrono::milliseconds timeout) {
  return wait_status("/payments/" + std::to_string(payment_id), statuses, timeout);
}

std::vector<std::string> history_statuses(const Res& order) {
  std::vector<std::string> out;
  const auto& h = order.at("history");
  if (!h.is_array()) return out;
  for (const auto& e : h.as_array()) out.push_back(str_of(member(e, "status")));
  return out;
}

std::optional<std::string> history_reason(const Res& order, std::string_view status) {
  const auto& h = order.at("history");
  if (!h.is_array()) return std::nullopt;
  std::optional<std::string> out;
  for (const auto& e : h.as_array()) {
    if (str_of(member(e, "status")) == status) out = str_of(member(e, "reason"));
  }
  return out;
}

// ---------------------------------------------------------------- composite steps

Res confirmed_order(std::int64_t customer_id, const std::vector<Line>& lines) {
  Res placed = place_order(customer_id, lines);
  EXPECT_EQ(placed.status, 201) << placed;
  if (placed.status != 201) return placed;
  Res r = wait_order(placed.id(), {"CONFIRMED", "REJECTED", "CANCELLED"});
  EXPECT_TRUE(has_status(r, "CONFIRMED"));
  return r;
}

std::int64_t pay(std::int64_t order_id, std::int64_t total_cents) {
  std::string body = R"({"order_id":)" + std::to_string(order_id) + R"(,"amount":)" + money(total_cents) + "}";
  Res created = post("/payments", body, {{"Idempotency-Key", new_key()}});
  EXPECT_EQ(created.status, 201) << "POST /payments " << body << " -> " << created;
  if (created.status != 201) return 0;
  EXPECT_EQ(created.str("status"), "PENDING") << created;
  std::int64_t id = created.id();
  Res confirmed = put("/payments/" + std::to_string(id) + "/confirm", "");
  EXPECT_EQ(confirmed.status, 200) << "PUT /payments/" << id << "/confirm -> " << confirmed;
  EXPECT_EQ(confirmed.str("status"), "CONFIRMED") << confirmed;
  Res order = wait_order(order_id, {"PAID", "CANCELLED"});
  EXPECT_TRUE(has_status(order, "PAID"));
  return id;
}

std::pair<Res, std::int64_t> paid_and_payable(std::int64_t customer_id, std::int64_t product, std::int64_t* payment_id) {
  Res order = confirmed_order(customer_id, {{product, 1}});
  std::int64_t payment = pay(order.id(), cents_of(order.at("total")));
  if (payment_id) *payment_id = payment;
  auto deadline = Clock::now() + 10s;
  boost::json::value s;
  do {
    s = shipment_of(order.id());
    if (member(s, "order_paid").is_bool() && member(s, "order_paid").as_bool()) break;
    std::this_thread::sleep_for(50ms);
  } while (Clock::now() < deadline);
  return {order, int_of(member(s, "id"))};
}

Res ship_status(std::int64_t shipment_id, std::string_view status, std::chrono::milliseconds retry_409_for) {
  auto deadline = Clock::now() + retry_409_for;
  std::string body = R"({"status":")" + std::string(status) + R"("})";
  for (;;) {
    Res r = put("/shipping/" + std::to_string(shipment_id), body);
    if (r.status != 409 || Clock::now() >= deadline) return r;
    std::this_thread::sleep_for(100ms);
  }
}

::testing::AssertionResult is_problem(const Res& r, int status) { return sales_test::is_problem_response(r, status); }
::testing::AssertionResult has_field_error(const Res& r, std::string_view field, int status) {
  return sales_test::has_field_error_response(r, field, status);
}

::testing::AssertionResult has_status(const Res& order, std::string_view status) {
  if (order.status == 200 || order.status == 201) {
    if (order.str("status") == status) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected status " << status << ", got " << order;
}

double metric_value(const std::string& service, const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& labels) {
  return metric_value_at(service_url(service), name, labels);
}

double metric_value_at(const std::string& base_url, const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& labels) {
  Res r = get_at(base_url, "/metrics");
  if (r.status != 200) return -1;
  return sales_test::metric_sum(r.body, name, labels).value_or(0);
}

}  // namespace saga

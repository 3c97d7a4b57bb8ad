// X-Request-Budget-Ms against the running services: a service asked straight (as the
// gateway asks it) answers a spent budget with a 504 problem and does nothing, does the work
// with a live budget, and ignores a budget it cannot read. Through the gateway a client's
// own budget header is replaced by the gateway's deadline.
#include <gtest/gtest.h>

#include <cstdint>

#include "sales_test/env.hpp"
#include "sales_test/metrics_text.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

using sales_test::unique_suffix;

Res post_product(const std::string& name, const std::string& budget) {
  return service_request("product", "POST", "/products", R"({"name":")" + name + R"(","price":1.50})",
                         "application/json", {{"X-Request-Budget-Ms", budget}});
}

// How many products have `name` in it, asked of the product service itself.
std::int64_t products_named(const std::string& name) {
  auto r = service_request("product", "GET", "/products?q=" + url_encode(name));
  EXPECT_EQ(r.status, 200) << r;
  return r.at("total").is_int64() ? r.at("total").as_int64() : -1;
}

// The product service's count of budgets spent before their handler ran.
std::int64_t refused_before_handler() {
  auto r = service_request("product", "GET", "/metrics");
  const auto v = sales_test::metric_sum(r.body, "http_requests_deadline_exceeded_total", {{"stage", "before_handler"}});
  return v ? static_cast<std::int64_t>(*v) : -1;
}

TEST(RequestBudget, ASpentBudgetIsA504ProblemAndCreatesNothing) {
  auto name = "e2e-budget-spent-" + unique_suffix();
  ASSERT_EQ(products_named(name), 0);
  auto refused = refused_before_handler();
  ASSERT_GE(refused, 0) << "the product service does not export http_requests_deadline_exceeded_total";

  auto r = post_product(name, "0");
  EXPECT_TRUE(is_problem(r, 504));
  EXPECT_EQ(products_named(name), 0) << "the handler ran although its budget was spent";
  EXPECT_EQ(refused_before_handler(), refused + 1);
}

TEST(RequestBudget, ALiveBudgetDoesTheWork) {
  auto name = "e2e-budget-live-" + unique_suffix();
  auto r = post_product(name, "5000");
  EXPECT_EQ(r.status, 201) << r;
  EXPECT_EQ(products_named(name), 1);
}

TEST(RequestBudget, AnUnreadableBudgetIsIgnored) {
  for (const char* garbage : {"soon", "-1", "12ms"}) {
    auto name = "e2e-budget-garbage-" + unique_suffix();
    auto r = post_product(name, garbage);
    EXPECT_EQ(r.status, 201) << garbage << "\n" << r;
    EXPECT_EQ(products_named(name), 1) << garbage;
  }
}

TEST(RequestBudget, AnOrderWithALiveBudgetIsPlacedAndOneSpentIsRefused) {
  // (That the calls to customer and product forward what is left is tested on the order
  // service's own RestDirectory: services/order/test/rest_directory_test.cpp.)
  auto c = service_request("customer", "POST", "/customers", R"({"name":"Budget Buyer","address":"1 Main St"})",
                           "application/json");
  auto p = service_request("product", "POST", "/products", R"({"name":"e2e-budget-order","price":2.00,"stock":5})",
                           "application/json");
  ASSERT_EQ(c.status, 201) << c;
  ASSERT_EQ(p.status, 201) << p;
  auto body = R"({"customer_id":)" + std::to_string(c.id()) + R"(,"product_id":)" + std::to_string(p.id()) +
              R"(,"quantity":1})";
  auto placed = service_request("order", "POST", "/orders", body, "application/json", {{"X-Request-Budget-Ms", "5000"}});
  EXPECT_EQ(placed.status, 201) << placed;
  auto refused = service_request("order", "POST", "/orders", body, "application/json", {{"X-Request-Budget-Ms", "0"}});
  EXPECT_TRUE(is_problem(refused, 504));
}

TEST(RequestBudget, TheGatewayReplacesAClientsBudgetWithItsOwnDeadline) {
  auto name = "e2e-budget-gateway-" + unique_suffix();
  auto r = post_json("/products", R"({"name":")" + name + R"(","price":1.50})", {{"X-Request-Budget-Ms", "0"}});
  EXPECT_EQ(r.status, 201) << r;
  EXPECT_EQ(products_named(name), 1);
}

}  // namespace
}  // namespace e2e

// The wire format: request bodies, filters and the rendered order.
#include <gtest/gtest.h>

#include "api/order_json.hpp"
#include "sales/problem/problem.hpp"
#include "sales_test/http.hpp"

namespace order {
namespace {

// The problem's status and its field errors as "field: message" lines.
struct Failure {
  int status = 0;
  std::vector<std::string> fields;
};

template <class Fn>
Failure failure_of(Fn&& fn) {
  auto p = sales_test::problem_of(std::forward<Fn>(fn));
  Failure f{p.status, {}};
  for (const auto& fe : p.errors) f.fields.push_back(fe.field);
  return f;
}

Failure new_order_failure(std::string_view body) {
  return failure_of([&] { decode_new_order(body); });
}

std::string lines(std::size_t n, std::int64_t first_product = 1) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ",";
    out += R"({"product_id":)" + std::to_string(first_product + static_cast<std::int64_t>(i)) + R"(,"quantity":1})";
  }
  return out + "]";
}

TEST(DecodeNewOrder, TakesTheItemsForm) {
  auto o = decode_new_order(R"({"customer_id":3,"items":[{"product_id":7,"quantity":2},{"product_id":8,"quantity":1000}]})");
  EXPECT_EQ(o.customer_id, 3);
  ASSERT_EQ(o.lines.size(), 2u);
  EXPECT_EQ(o.lines[0].product_id, 7);
  EXPECT_EQ(o.lines[0].quantity, 2);
  EXPECT_EQ(o.lines[1].quantity, 1000);
}

TEST(DecodeNewOrder, TakesTheSeedsSingleItemForm) {
  auto o = decode_new_order(R"({"customer_id":3,"product_id":7,"quantity":5})");
  ASSERT_EQ(o.lines.size(), 1u);
  EXPECT_EQ(o.lines[0].product_id, 7);
  EXPECT_EQ(o.lines[0].quantity, 5);
}

TEST(DecodeNewOrder, AcceptsOneToAHundredLines) {
  EXPECT_EQ(decode_new_order(R"({"customer_id":1,"items":)" + lines(100) + "}").lines.size(), 100u);
  auto too_many = new_order_failure(R"({"customer_id":1,"items":)" + lines(101) + "}");
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(too_many.fields, (std::vector<std::string>{"items"}));
  EXPECT_EQ(new_order_failure(R"({"customer_id":1,"items":[]})").fields, (std::vector<std::string>{"items"}));
}

TEST(DecodeNewOrder, NamesTheRepeatedProductsLine) {
  auto f = new_order_failure(R"({"customer_id":1,"items":[{"product_id":7,"quantity":1},{"product_id":7,"quantity":2}]})");
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(f.fields, (std::vector<std::string>{"items[1].product_id"}));
}

TEST(DecodeNewOrder, NamesEveryBadFieldOfEveryLine) {
  auto f = new_order_failure(
      R"({"customer_id":0,"items":[{"product_id":7,"quantity":0},{"product_id":-1,"quantity":1001},"x",{"product_id":9,"quantity":1,"colour":"red"}]})");
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(f.fields, (std::vector<std::string>{"customer_id", "items[0].quantity", "items[1].product_id",
                                                "items[1].quantity", "items[2]", "items[3].colour"}));
}

TEST(DecodeNewOrder, RejectsBadBodies) {
  for (const char* bad : {
           "", "[]", "{", R"({"items":[{"product_id":1,"quantity":1}]})",      // no customer
           R"({"customer_id":1})",                                              // no lines at all
           R"({"customer_id":1,"product_id":1})",                               // single form without quantity
           R"({"customer_id":1,"product_id":1,"quantity":1.5})",
           R"({"customer_id":1,"product_id":"1","quantity":1})",
           R"({"customer_id":"1","product_id":1,"quantity":1})",
           R"({"customer_id":1,"product_id":1,"quantity":1,"note":"x"})",      // unknown field
           R"({"customer_id":1,"items":{"product_id":1,"quantity":1}})",        // items not an array
           R"({"customer_id":1,"items":[{"product_id":1,"quantity":1}],"product_id":2})",  // both forms
           R"({"customer_id":1,"items":[{"product_id":1,"quantity":1}],"status":"PAID"})",
       }) {
    EXPECT_EQ(new_order_failure(bad).status, 400) << bad;
  }
}

TEST(DecodeCancel, ReasonIsOptional) {
  EXPECT_EQ(decode_cancel_reason(""), kDefaultCancelReason);
  EXPECT_EQ(decode_cancel_reason("{}"), kDefaultCancelReason);
  EXPECT_EQ(decode_cancel_reason(R"({"reason":null})"), kDefaultCancelReason);
  EXPECT_EQ(decode_cancel_reason(R"({"reason":"changed my mind"})"), "changed my mind");
  for (const char* bad : {R"({"reason":""})", R"({"reason":5})", R"({"why":"x"})", "[]", "nope"}) {
    EXPECT_EQ(failure_of([&] { decode_cancel_reason(bad); }).status, 400) << bad;
  }
  EXPECT_EQ(failure_of([&] { decode_cancel_reason(R"({"reason":")" + std::string(501, 'x') + "\"}"); }).status, 400);
}

OrderFilter filter_of(const std::string& target) {
  return sales_test::list_filter(target, [](sales::http::ListQuery& q) { return decode_filter(q); });
}

TEST(DecodeFilter, ValidatesCustomerAndStatus) {
  auto f = filter_of("/orders?customer_id=4&status=paid");
  EXPECT_EQ(f.customer_id, 4);
  EXPECT_EQ(f.status, Status::Paid);
  auto none = filter_of("/orders");
  EXPECT_FALSE(none.customer_id);
  EXPECT_FALSE(none.status);
  EXPECT_EQ(failure_of([] { filter_of("/orders?status=LOST"); }).fields, (std::vector<std::string>{"status"}));
  for (const char* bad : {"customer_id=0", "customer_id=x", "customer_id=", "customer_id=1x", "customer_id=-3",
                          "customer_id=99999999999999999999"}) {
    EXPECT_EQ(failure_of([&] { filter_of(std::string("/orders?") + bad); }).status, 400) << bad;
  }
}

Order sample() {
  Order o;
  o.id = 12;
  o.customer_id = 3;
  o.status = Status::Confirmed;
  o.items = {{7, 3, 10}, {8, 1, 123456}};
  o.total_cents = 123486;
  o.shipping_address = "1 \"Main\" St";
  o.created_at = "t0";
  o.updated_at = "t1";
  o.history = {{Status::Pending, "order placed", "t0"}, {Status::Confirmed, "stock reserved", "t1"}};
  return o;
}

TEST(Render, PrintsTheOrderWithMoneyInTwoDecimals) {
  EXPECT_EQ(render(sample(), false),
            R"({"id":12,"customer_id":3,"status":"CONFIRMED","items":[{"product_id":7,"quantity":3,"unit_price":0.10},)"
            R"({"product_id":8,"quantity":1,"unit_price":1234.56}],"total":1234.86,"shipping_address":"1 \"Main\" St",)"
            R"("created_at":"t0","updated_at":"t1"})");
}

TEST(Render, AddsHistoryForASingleOrder) {
  auto o = sample();
  o.shipping_address.reset();
  auto body = render(o, true);
  EXPECT_NE(body.find(R"("shipping_address":null)"), std::string::npos);
  EXPECT_NE(body.find(R"("history":[{"status":"PENDING","reason":"order placed","at":"t0"},)"
                      R"({"status":"CONFIRMED","reason":"stock reserved","at":"t1"}])"),
            std::string::npos)
      << body;
}

}  // namespace
}  // namespace order

// Decoding and rendering at the HTTP edge: bad input is a 400 naming the field.
#include "api/payment_handlers.hpp"

#include <gtest/gtest.h>

#include "sales/problem/problem.hpp"
#include "sales_test/http.hpp"

namespace payment {
namespace {

sales::Problem problem_of(const std::function<void()>& f) {
  auto p = sales_test::problem_of(f);
  if (p.status == 0) ADD_FAILURE() << "no problem thrown";
  return p;
}

TEST(DecodePayment, AcceptsOrderIdAndAmount) {
  auto p = decode_new_payment(R"({"order_id":42,"amount":19.99})");
  EXPECT_EQ(p.order_id, 42);
  EXPECT_EQ(p.amount_cents, 1999);
  EXPECT_EQ(decode_new_payment(R"({"order_id":1,"amount":20})").amount_cents, 2000);
}

TEST(DecodePayment, RejectsBadFieldsWith400) {
  for (const char* bad :
       {R"({"amount":1})", R"({"order_id":1})", R"({"order_id":0,"amount":1})", R"({"order_id":-3,"amount":1})",
        R"({"order_id":1.5,"amount":1})", R"({"order_id":"1","amount":1})", R"({"order_id":1,"amount":0})",
        R"({"order_id":1,"amount":-5})", R"({"order_id":1,"amount":1.234})", R"({"order_id":1,"amount":"1.00"})",
        R"({"order_id":1,"amount":1e300})", R"({"order_id":1,"amount":1,"currency":"EUR"})", "[]", "{", ""}) {
    EXPECT_EQ(problem_of([&] { decode_new_payment(bad); }).status, 400) << bad;
  }
}

TEST(DecodePayment, NamesEveryBadField) {
  auto p = problem_of([] { decode_new_payment(R"({"order_id":0,"amount":0})"); });
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].field, "order_id");
  EXPECT_EQ(p.errors[1].field, "amount");
  EXPECT_EQ(p.errors[1].message, "must be greater than 0");
}

using sales_test::get;

TEST(DecodeFilter, TakesOrderIdAndStatus) {
  auto f = decode_filter(get("/payments?order_id=12&status=REFUNDED"));
  EXPECT_EQ(f.order_id, 12);
  EXPECT_EQ(f.status, PaymentStatus::Refunded);
  auto none = decode_filter(get("/payments"));
  EXPECT_FALSE(none.order_id);
  EXPECT_FALSE(none.status);
}

TEST(DecodeFilter, RejectsBadValues) {
  for (const char* bad : {"/payments?order_id=0", "/payments?order_id=-1", "/payments?order_id=abc",
                          "/payments?order_id=1x", "/payments?order_id=", "/payments?order_id=99999999999999999999",
                          "/payments?status=paid", "/payments?status="}) {
    EXPECT_EQ(problem_of([&] { decode_filter(get(bad)); }).status, 400) << bad;
  }
}

TEST(RequirePayable, MapsTheOrdersStateToConflictOrUnprocessable) {
  EXPECT_NO_THROW(require_payable({9, "CONFIRMED", 1999}, 1999));
  auto wrong_status = problem_of([] { require_payable({9, "PENDING", 1999}, 1999); });
  EXPECT_EQ(wrong_status.status, 409);
  EXPECT_EQ(wrong_status.detail, "Order 9 is PENDING; only a CONFIRMED order can be paid.");
  auto wrong_amount = problem_of([] { require_payable({9, "CONFIRMED", 1999}, 1000); });
  EXPECT_EQ(wrong_amount.status, 422);
  EXPECT_EQ(wrong_amount.detail, "The amount does not match order 9's total of 19.99.");
  ASSERT_EQ(wrong_amount.errors.size(), 1u);
  EXPECT_EQ(wrong_amount.errors[0].field, "amount");
}

TEST(Render, PrintsTheContractsShape) {
  Payment p{7, 42, 1999, PaymentStatus::Pending, "t0", "t1"};
  EXPECT_EQ(render(p),
            R"({"id":7,"order_id":42,"amount":19.99,"status":"PENDING","created_at":"t0","updated_at":"t1"})");
}

}  // namespace
}  // namespace payment

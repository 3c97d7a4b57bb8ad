#include "domain/stock.hpp"

#include <gtest/gtest.h>

#include "api/stock_handlers.hpp"
#include "sales/problem/problem.hpp"
#include "sales_test/http.hpp"

namespace inventory {
namespace {

using Reason = StockRefusal::Reason;

TEST(CheckChange, AllowsDownToExactlyZero) {
  EXPECT_FALSE(check_change(5, -5));
  EXPECT_FALSE(check_change(5, -1));
  EXPECT_FALSE(check_change(0, 1));
}

TEST(CheckChange, RefusesBelowZeroWithRequestedAndAvailable) {
  auto r = check_change(5, -6);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, Reason::Insufficient);
  EXPECT_EQ(r->requested, 6);
  EXPECT_EQ(r->available, 5);
  EXPECT_EQ(r->describe(7), "Not enough stock for product 7: requested 6, available 5.");
  EXPECT_TRUE(check_change(0, -1));
}

TEST(CheckChange, RefusesAboveTheMaximumWithoutOverflow) {
  EXPECT_FALSE(check_change(kMaxStock - 10, 10));
  auto r = check_change(kMaxStock - 10, 11);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, Reason::AboveMaximum);
  EXPECT_TRUE(check_change(kMaxStock, INT64_MAX));
  EXPECT_TRUE(check_change(0, INT64_MIN + 1));
}

TEST(MovementKind, NamesMatchTheLedgerCheck) {
  EXPECT_EQ(to_string(MovementKind::Initial), "initial");
  EXPECT_EQ(to_string(MovementKind::Adjust), "adjust");
  EXPECT_EQ(to_string(MovementKind::Take), "take");
  EXPECT_EQ(to_string(MovementKind::Reserve), "reserve");
  EXPECT_EQ(to_string(MovementKind::Release), "release");
}

template <class Decode>
int status_of(Decode decode, std::string_view body) {
  return sales_test::problem_of([&] { decode(body); }).status;
}

TEST(DecodeTake, AcceptsTheSeedsCall) {
  auto t = decode_take(R"({"product_id":7,"quantity":3})");
  EXPECT_EQ(t.product_id, 7);
  EXPECT_EQ(t.quantity, 3);
  EXPECT_EQ(decode_take(R"({"product_id":1,"quantity":1000000})").quantity, kMaxTakeQuantity);
}

TEST(DecodeTake, RejectsBadFields) {
  for (const char* bad : {R"({})", R"({"product_id":7})", R"({"quantity":1})", R"({"product_id":0,"quantity":1})",
                          R"({"product_id":-1,"quantity":1})", R"({"product_id":7,"quantity":0})",
                          R"({"product_id":7,"quantity":-2})", R"({"product_id":7,"quantity":1000001})",
                          R"({"product_id":7,"quantity":1.5})", R"({"product_id":"7","quantity":1})",
                          R"({"product_id":7,"quantity":1,"extra":true})", R"([1])", R"(not json)"}) {
    EXPECT_EQ(status_of(decode_take, bad), 400) << bad;
  }
}

TEST(DecodeAdjust, TakesANonZeroDeltaOfEitherSign) {
  EXPECT_EQ(decode_adjust(R"({"delta":5})"), 5);
  EXPECT_EQ(decode_adjust(R"({"delta":-1000000000})"), -kMaxAdjustDelta);
  EXPECT_EQ(decode_adjust(R"({"delta":1000000000})"), kMaxAdjustDelta);
  for (const char* bad : {R"({})", R"({"delta":0})", R"({"delta":1000000001})", R"({"delta":-1000000001})",
                          R"({"delta":2.5})", R"({"delta":"5"})", R"({"delta":null})", R"({"delta":1,"x":1})"}) {
    EXPECT_EQ(status_of(decode_adjust, bad), 400) << bad;
  }
}

TEST(Render, StockAndReservation) {
  EXPECT_EQ(render(StockLevel{7, 3, 9, "t1"}), R"({"product_id":7,"stock":3,"updated_at":"t1"})");
  Reservation r{4, ReservationStatus::Reserved, std::nullopt, {{7, 2}}, "t0", "t1"};
  EXPECT_EQ(render(r), R"({"order_id":4,"status":"RESERVED","reason":null,"items":[{"product_id":7,"quantity":2}],)"
                       R"("created_at":"t0","updated_at":"t1"})");
}

}  // namespace
}  // namespace inventory

// The status machine, line rules, the exact total and the saga's reactions.
#include <gtest/gtest.h>

#include <set>

#include "domain/order.hpp"
#include "domain/saga.hpp"
#include "sales/money/money.hpp"

namespace order {
namespace {

using enum Status;

TEST(StatusMachine, AllowsExactlyTheGraphOfDesign4) {
  const std::set<std::pair<Status, Status>> allowed = {
      {Pending, Confirmed}, {Pending, Rejected},  {Pending, Cancelled}, {Confirmed, Paid},   {Confirmed, Cancelled},
      {Paid, Shipped},      {Paid, Cancelled},    {Shipped, Delivered}, {Shipped, Refunded}, {Delivered, Refunded},
  };
  int checked = 0;
  for (Status from : kAllStatuses) {
    for (Status to : kAllStatuses) {
      EXPECT_EQ(can_transition(from, to), allowed.contains({from, to})) << name(from) << " -> " << name(to);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 64);
}

TEST(StatusMachine, FinalStatusesGoNowhere) {
  for (Status final_status : {Rejected, Cancelled, Refunded}) {
    for (Status to : kAllStatuses) EXPECT_FALSE(can_transition(final_status, to)) << name(final_status);
  }
}

TEST(StatusMachine, CancelIsAllowedOnlyBeforeShipping) {
  for (Status s : kAllStatuses) EXPECT_EQ(can_cancel(s), s == Pending || s == Confirmed || s == Paid) << name(s);
}

TEST(StatusNames, RoundTripAndIgnoreCase) {
  for (Status s : kAllStatuses) EXPECT_EQ(parse_status(name(s)), s);
  EXPECT_EQ(parse_status("paid"), Paid);
  EXPECT_EQ(parse_status("Cancelled"), Cancelled);
  for (const char* bad : {"", "PAYED", "PENDING ", "pend", "SHIPPEDX", "CANCELED"}) EXPECT_FALSE(parse_status(bad)) << bad;
  EXPECT_EQ(status_names(), "PENDING, CONFIRMED, PAID, SHIPPED, DELIVERED, REJECTED, CANCELLED, REFUNDED");
}

TEST(Lines, RepeatedProductsAreReportedAtTheirLaterLines) {
  EXPECT_TRUE(repeated_products({{1, 1}, {2, 1}, {3, 1}}).empty());
  EXPECT_EQ(repeated_products({{7, 1}, {7, 2}}), (std::vector<std::size_t>{1}));
  EXPECT_EQ(repeated_products({{1, 1}, {2, 1}, {1, 1}, {2, 5}, {1, 1}}), (std::vector<std::size_t>{2, 3, 4}));
}

TEST(Total, IsExactInCents) {
  EXPECT_EQ(order_total({{1, 3, 10}}), 30);  // 3 × 0.10 = 0.30, not 0.30000000000000004
  EXPECT_EQ(order_total({{1, 2, 1999}, {2, 1, 1}}), 3999);
  EXPECT_EQ(order_total({{1, 1000, 0}}), 0);
  EXPECT_EQ(order_total({}), 0);
}

TEST(Total, RefusesMoreThanAPaymentCanCarry) {
  const std::int64_t max = sales::money::kMaxCents;
  EXPECT_EQ(order_total({{1, 1, max}}), max);
  EXPECT_FALSE(order_total({{1, 2, max}}));
  EXPECT_FALSE(order_total({{1, 1, max}, {2, 1, 1}}));
  EXPECT_FALSE(order_total({{1, 1000, max}}));  // the line itself overflows money::times's bound
  EXPECT_EQ(order_total({{1, 1000, max / 1000}}), max);
}

Reaction advance(std::vector<Status> path) { return {Reaction::Kind::Advance, std::move(path)}; }
constexpr Reaction kIgnore{};

void expect_reaction(SagaEvent e, Status s, const Reaction& want) {
  auto got = react(e, s);
  EXPECT_EQ(got.kind, want.kind) << "event " << static_cast<int>(e) << " in " << name(s);
  EXPECT_EQ(got.path, want.path) << "event " << static_cast<int>(e) << " in " << name(s);
}

TEST(Saga, ReservationDecidesOnlyPendingOrders) {
  for (Status s : kAllStatuses) {
    expect_reaction(SagaEvent::StockReserved, s, s == Pending ? advance({Confirmed}) : kIgnore);
    expect_reaction(SagaEvent::StockRejected, s, s == Pending ? advance({Rejected}) : kIgnore);
  }
}

TEST(Saga, PaymentConfirmedPaysOrAsksForARefund) {
  for (Status s : kAllStatuses) {
    Reaction want = kIgnore;
    if (s == Confirmed) want = advance({Paid});
    if (s == Cancelled || s == Rejected) want = {Reaction::Kind::RepublishCancel, {}};
    expect_reaction(SagaEvent::PaymentConfirmed, s, want);
  }
}

TEST(Saga, PaymentRefundedCancelsBeforeShippingAndRefundsAfter) {
  for (Status s : kAllStatuses) {
    Reaction want = kIgnore;
    if (s == Confirmed || s == Paid) want = advance({Cancelled});
    if (s == Shipped || s == Delivered) want = advance({Refunded});
    expect_reaction(SagaEvent::PaymentRefunded, s, want);
  }
}

TEST(Saga, ARefundOfAnotherPaymentThanTheOneThatPaidChangesNothing) {
  for (Status s : kAllStatuses) {
    auto r = react(SagaEvent::PaymentRefunded, s, /*paid_by_another=*/true);
    EXPECT_EQ(r.kind, Reaction::Kind::Ignore) << name(s);
  }
}

TEST(Saga, ShipmentProgress) {
  for (Status s : kAllStatuses) {
    expect_reaction(SagaEvent::ShipmentShipped, s, s == Paid ? advance({Shipped}) : kIgnore);
    Reaction delivered = kIgnore;
    if (s == Shipped) delivered = advance({Delivered});
    if (s == Paid) delivered = advance({Shipped, Delivered});  // the shipped event is late
    expect_reaction(SagaEvent::ShipmentDelivered, s, delivered);
  }
}

TEST(Saga, EveryStepFollowsTheGraph) {
  for (auto e : {SagaEvent::StockReserved, SagaEvent::StockRejected, SagaEvent::PaymentConfirmed,
                 SagaEvent::PaymentRefunded, SagaEvent::ShipmentShipped, SagaEvent::ShipmentDelivered}) {
    for (Status s : kAllStatuses) {
      Status at = s;
      for (Status to : react(e, s).path) {
        EXPECT_TRUE(can_transition(at, to)) << name(at) << " -> " << name(to);
        at = to;
      }
    }
  }
}

}  // namespace
}  // namespace order

#include <gtest/gtest.h>

#include "domain/shipment.hpp"

namespace shipping {
namespace {

using enum ShipmentStatus;

TEST(Status, RoundTripsTheContractNamesInAnyCase) {
  for (auto s : kAllStatuses) EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_EQ(to_string(Pending), "PENDING");
  EXPECT_EQ(parse_status("cancelled"), Cancelled) << "any case, as the order service takes its own";
  EXPECT_EQ(parse_status("Shipped"), Shipped);
  for (const char* bad : {"", "SHIPPED ", "LOST", "DELIVERED\n", "PENDIN"}) {
    EXPECT_FALSE(parse_status(bad)) << bad;
  }
}

// Every (from, to, paid) triple, spelled out: the table is the rule.
TEST(DecideUpdate, CoversEveryPair) {
  using V = UpdateVerdict;
  struct Case {
    ShipmentStatus from, to;
    V unpaid, paid;
  };
  const Case cases[] = {
      {Pending, Pending, V::NotAllowed, V::NotAllowed},     {Pending, Shipped, V::NotPaid, V::Apply},
      {Pending, Delivered, V::NotAllowed, V::NotAllowed},   {Pending, Cancelled, V::NotAllowed, V::NotAllowed},
      {Shipped, Pending, V::NotAllowed, V::NotAllowed},     {Shipped, Shipped, V::AlreadyApplied, V::AlreadyApplied},
      {Shipped, Delivered, V::Apply, V::Apply},             {Shipped, Cancelled, V::NotAllowed, V::NotAllowed},
      {Delivered, Pending, V::NotAllowed, V::NotAllowed},   {Delivered, Shipped, V::NotAllowed, V::NotAllowed},
      {Delivered, Delivered, V::AlreadyApplied, V::AlreadyApplied}, {Delivered, Cancelled, V::NotAllowed, V::NotAllowed},
      {Cancelled, Pending, V::NotAllowed, V::NotAllowed},   {Cancelled, Shipped, V::NotAllowed, V::NotAllowed},
      {Cancelled, Delivered, V::NotAllowed, V::NotAllowed}, {Cancelled, Cancelled, V::NotAllowed, V::NotAllowed},
  };
  ASSERT_EQ(std::size(cases), kAllStatuses.size() * kAllStatuses.size());
  for (const auto& c : cases) {
    std::string pair = std::string(to_string(c.from)) + " -> " + std::string(to_string(c.to));
    EXPECT_EQ(decide_update(c.from, c.to, false), c.unpaid) << pair << " unpaid";
    EXPECT_EQ(decide_update(c.from, c.to, true), c.paid) << pair << " paid";
  }
}

// A PUT asking for the status a client transition already led to is answered as done;
// every other refusal stays.
TEST(DecideUpdate, ARepeatOfShippedOrDeliveredIsAlreadyApplied) {
  for (bool paid : {false, true}) {
    EXPECT_EQ(decide_update(Shipped, Shipped, paid), UpdateVerdict::AlreadyApplied);
    EXPECT_EQ(decide_update(Delivered, Delivered, paid), UpdateVerdict::AlreadyApplied);
    EXPECT_EQ(decide_update(Delivered, Shipped, paid), UpdateVerdict::NotAllowed);   // went on
    EXPECT_EQ(decide_update(Cancelled, Shipped, paid), UpdateVerdict::NotAllowed);   // never will
    EXPECT_EQ(decide_update(Pending, Delivered, paid), UpdateVerdict::NotAllowed);   // not yet
    EXPECT_EQ(decide_update(Pending, Pending, paid), UpdateVerdict::NotAllowed);     // no client transition
    EXPECT_EQ(decide_update(Cancelled, Cancelled, paid), UpdateVerdict::NotAllowed);
  }
}

TEST(EventFor, OnlyClientTransitionsPublish) {
  EXPECT_EQ(event_for(Shipped), "shipment.shipped");
  EXPECT_EQ(event_for(Delivered), "shipment.delivered");
  EXPECT_FALSE(event_for(Pending));
  EXPECT_FALSE(event_for(Cancelled));
}

TEST(DecideCancel, CancelsOnlyWhatHasNotLeft) {
  EXPECT_EQ(decide_cancel(Pending), CancelVerdict::Cancel);
  EXPECT_EQ(decide_cancel(Cancelled), CancelVerdict::AlreadyCancelled);
  EXPECT_EQ(decide_cancel(Shipped), CancelVerdict::TooLate);
  EXPECT_EQ(decide_cancel(Delivered), CancelVerdict::TooLate);
}

TEST(InitialState, FollowsTheOrderStatus) {
  struct Case {
    const char* order_status;
    ShipmentStatus status;
    bool paid;
  };
  for (const auto& c : std::initializer_list<Case>{{"PENDING", Pending, false},
                                                   {"CONFIRMED", Pending, false},
                                                   {"PAID", Pending, true},
                                                   {"SHIPPED", Pending, true},
                                                   {"DELIVERED", Pending, true},
                                                   {"REJECTED", Cancelled, false},
                                                   {"CANCELLED", Cancelled, false},
                                                   {"REFUNDED", Cancelled, false},
                                                   {"SOMETHING_NEW", Pending, false}}) {
    auto s = initial_state(c.order_status);
    EXPECT_EQ(s.status, c.status) << c.order_status;
    EXPECT_EQ(s.order_paid, c.paid) << c.order_status;
  }
}

}  // namespace
}  // namespace shipping

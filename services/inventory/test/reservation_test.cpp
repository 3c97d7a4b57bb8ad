#include "domain/reservation.hpp"

#include <gtest/gtest.h>

namespace inventory {
namespace {

using Outcome = ReservationDecision::Outcome;
using Stock = std::map<std::int64_t, std::int64_t>;

TEST(MergeLines, SumsRepeatedProductsInFirstAppearanceOrder) {
  EXPECT_EQ(merge_lines({{7, 2}, {3, 1}, {7, 4}}), (std::vector<Line>{{7, 6}, {3, 1}}));
  EXPECT_EQ(merge_lines({{1, 1}}), (std::vector<Line>{{1, 1}}));
}

TEST(DecideReservation, ReservesWhenEveryLineFitsExactly) {
  auto d = decide_reservation({{1, 5}, {2, 3}}, Stock{{1, 5}, {2, 3}});
  EXPECT_EQ(d.outcome, Outcome::Reserve);
  EXPECT_EQ(d.reason(), "");
}

TEST(DecideReservation, OneUnitShortRejects) {
  auto d = decide_reservation({{1, 6}}, Stock{{1, 5}});
  EXPECT_EQ(d.outcome, Outcome::Short);
  EXPECT_EQ(d.line, (Line{1, 6}));
  EXPECT_EQ(d.available, 5);
  EXPECT_EQ(d.reason(), "insufficient stock for product 1: requested 6, available 5");
}

TEST(DecideReservation, ZeroStockRejectsAnyQuantity) {
  EXPECT_EQ(decide_reservation({{1, 1}}, Stock{{1, 0}}).outcome, Outcome::Short);
}

TEST(DecideReservation, AllOrNothingReportsTheFirstShortLine) {
  // Lines 1 and 4 fit, 2 and 3 are short: nothing is reserved, line 2 is the reason.
  auto d = decide_reservation({{1, 1}, {2, 5}, {3, 9}, {4, 1}}, Stock{{1, 10}, {2, 2}, {3, 0}, {4, 10}});
  EXPECT_EQ(d.outcome, Outcome::Short);
  EXPECT_EQ(d.line, (Line{2, 5}));
  EXPECT_EQ(d.reason(), "insufficient stock for product 2: requested 5, available 2");
}

TEST(DecideReservation, MergedLinesAreCheckedAsTheirSum) {
  auto merged = merge_lines({{7, 3}, {7, 3}});
  auto d = decide_reservation(merged, Stock{{7, 5}});
  EXPECT_EQ(d.outcome, Outcome::Short);
  EXPECT_EQ(d.reason(), "insufficient stock for product 7: requested 6, available 5");
  EXPECT_EQ(decide_reservation(merged, Stock{{7, 6}}).outcome, Outcome::Reserve);
}

TEST(DecideReservation, UnknownProductDecidesWhenNothingIsShort) {
  auto d = decide_reservation({{1, 1}, {9, 2}, {8, 1}}, Stock{{1, 1}});
  EXPECT_EQ(d.outcome, Outcome::UnknownProduct);
  EXPECT_EQ(d.line, (Line{9, 2}));
  EXPECT_FALSE(d.product_deleted);
  EXPECT_EQ(d.reason(), "unknown product 9");
}

TEST(DecideReservation, ShortLineDecidesBeforeAnUnknownOne) {
  auto d = decide_reservation({{9, 1}, {1, 2}}, Stock{{1, 1}});
  EXPECT_EQ(d.outcome, Outcome::Short);
  EXPECT_EQ(d.line.product_id, 1);
}

TEST(DecideReservation, DeletedProductDecidesBeforeAMissingOne) {
  auto d = decide_reservation({{9, 1}, {4, 1}}, Stock{}, {4});
  EXPECT_EQ(d.outcome, Outcome::UnknownProduct);
  EXPECT_EQ(d.line.product_id, 4);
  EXPECT_TRUE(d.product_deleted);
  EXPECT_EQ(d.reason(), "product 4 was deleted") << "what the order's history says: not unknown, deleted";
}

// However old the order (a backlog at inventory ages every order.created), its first try
// waits: the product's product.created may be held by another replica.
TEST(UnknownProduct, RetriedThroughInventorysOwnTriesThenRejected) {
  ReservationDecision missing{Outcome::UnknownProduct, {9, 1}, 0, false};
  EXPECT_EQ(on_unknown_product(missing, 0), UnknownProductAction::RetryLater);
  EXPECT_EQ(on_unknown_product(missing, kUnknownProductRetries - 1), UnknownProductAction::RetryLater);
  EXPECT_EQ(on_unknown_product(missing, kUnknownProductRetries), UnknownProductAction::Reject);
}

TEST(UnknownProduct, DeletedIsRejectedAtOnce) {
  ReservationDecision deleted{Outcome::UnknownProduct, {4, 1}, 0, true};
  EXPECT_EQ(on_unknown_product(deleted, 0), UnknownProductAction::Reject);
}

const std::vector<std::optional<ReservationStatus>> kEveryState = {
    std::nullopt, ReservationStatus::Reserved, ReservationStatus::Rejected, ReservationStatus::Released,
    ReservationStatus::Cancelled};

TEST(Transitions, OrderCreatedReservesOnlyForAnOrderNeverSeen) {
  for (const auto& state : kEveryState) {
    EXPECT_EQ(reserves_on_order_created(state), !state.has_value()) << (state ? to_string(*state) : "none");
  }
}

TEST(Transitions, OrderCancelledReleasesReservedTombstonesNoneIgnoresTheRest) {
  EXPECT_EQ(on_order_cancelled(std::nullopt), CancelAction::Tombstone);
  EXPECT_EQ(on_order_cancelled(ReservationStatus::Reserved), CancelAction::Release);
  for (auto s : {ReservationStatus::Rejected, ReservationStatus::Released, ReservationStatus::Cancelled}) {
    EXPECT_EQ(on_order_cancelled(s), CancelAction::Nothing) << to_string(s);
  }
}

TEST(Status, TextRoundTrips) {
  for (const auto& state : kEveryState) {
    if (state) {
      EXPECT_EQ(parse_status(to_string(*state)), state);
    }
  }
  EXPECT_FALSE(parse_status("reserved"));
  EXPECT_FALSE(parse_status(""));
}

}  // namespace
}  // namespace inventory

// The stores against a real database: the saga rules for inventory (docs/saga.md).
#include "store_fixture.hpp"

namespace inventory::testing {
namespace {


TEST_F(StoreTest, ProductCreatedMakesTheRowOnceWithItsLedgerAndEvent) {
  EXPECT_TRUE(committed([](pg::Transaction& tx) { return create_stock(tx, 1, 5); }));
  EXPECT_FALSE(committed([](pg::Transaction& tx) { return create_stock(tx, 1, 99); }));  // a redelivery
  EXPECT_EQ(stock_of(1), 5);
  EXPECT_EQ(flush_feed().changes, 1);  // the initial stock, on its way to the product service
  EXPECT_EQ(events_of("inventory.stock_changed"), 1);
  EXPECT_NE(last_payload("inventory.stock_changed").find(R"("data":{"product_id":1,"stock":5,"version":1})"),
            std::string::npos);
  EXPECT_NE(last_payload("inventory.stock_changed").find(R"("correlation_id":"product-1")"), std::string::npos);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, DeleteBeforeCreateKeepsTheProductDeleted) {
  committed([](pg::Transaction& tx) { mark_deleted(tx, 3); });
  EXPECT_FALSE(committed([](pg::Transaction& tx) { return create_stock(tx, 3, 5); }));
  StockStore store(*pool_);
  try {
    store.level_of(3);
    ADD_FAILURE() << "a deleted product has no level";
  } catch (const UnknownProduct& e) {
    EXPECT_TRUE(e.deleted) << "its row says so";
  }
  EXPECT_EQ(store.list({}).total, 0);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, AProductInventoryNeverHeardOfHasNoLevelAndIsNotDeleted) {
  try {
    StockStore(*pool_).level_of(4);
    ADD_FAILURE() << "an unknown product has no level";
  } catch (const UnknownProduct& e) {
    EXPECT_FALSE(e.deleted) << "so the product service is asked whether it was created moments ago";
  }
}

// GET /inventory/stock's total, as the catalogue's and the customers' (sales/pg/total_cache.hpp):
// a full page reuses a recent count, a page that asks for a fresh one or the last page does not.
TEST_F(StoreTest, TheStockListKeepsARecentTotalUnlessAskedOrOnTheLastPage) {
  StockStore store(*pool_, {.ttl = std::chrono::minutes(1)});
  for (std::int64_t id = 1; id <= 3; ++id) create_product(id, 5);
  EXPECT_EQ(store.list({.limit = 2, .offset = 0}).total, 3);
  create_product(4, 5);
  auto kept = store.list({.limit = 2, .offset = 0});
  EXPECT_EQ(kept.items.size(), 2u);
  EXPECT_EQ(kept.total, 3) << "a full page within the minute takes the kept count";
  EXPECT_EQ(store.list({.limit = 2, .offset = 0, .fresh_total = true}).total, 4);
  create_product(5, 5);
  EXPECT_EQ(store.list({.limit = 2, .offset = 4}).total, 5) << "the last page counts its own items";
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, ChangeStockIsCheckedAndLedgered) {
  create_product(1, 5);
  auto after = committed([](pg::Transaction& tx) { return change_stock(tx, 1, -5, MovementKind::Take); });
  EXPECT_EQ(after.stock, 0);
  EXPECT_EQ(after.version, 2);
  EXPECT_THROW(committed([](pg::Transaction& tx) { return change_stock(tx, 1, -1, MovementKind::Take); }), StockRefused);
  EXPECT_THROW(committed([](pg::Transaction& tx) { return change_stock(tx, 2, 1, MovementKind::Adjust); }),
               UnknownProduct);
  EXPECT_EQ(committed([](pg::Transaction& tx) { return change_stock(tx, 1, 7, MovementKind::Adjust); }).stock, 7);
  committed([](pg::Transaction& tx) { mark_deleted(tx, 1); });
  EXPECT_THROW(committed([](pg::Transaction& tx) { return change_stock(tx, 1, 1, MovementKind::Adjust); }),
               UnknownProduct);
  auto flushed = flush_feed();  // created, take, adjust: refusals change nothing
  EXPECT_EQ(flushed.changes, 3);
  EXPECT_EQ(flushed.events, 1);
  EXPECT_NE(last_payload("inventory.stock_changed").find(R"("data":{"product_id":1,"stock":7,"version":3})"),
            std::string::npos);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, AQueuedChangeLandsWithTheCommitAndAMissingStockRowFailsIt) {
  create_product(1, 5);
  committed([](pg::Transaction& tx) { apply_changes_later(tx, {{1, 2}}, MovementKind::Adjust, std::nullopt, "x"); });
  EXPECT_EQ(stock_of(1), 7);

  pg::Transaction tx(*pool_);
  // Product 2 has no stock row (callers lock the rows first, so this is a bug): the queued
  // statement fails when it reaches the server, here with the COMMIT, on the ledger's NOT NULL.
  apply_changes_later(tx, {{1, 1}, {2, 1}}, MovementKind::Adjust, std::nullopt, "x");
  try {
    tx.commit();
    ADD_FAILURE() << "the commit succeeded";
  } catch (const pg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "23502") << e.what();
  }
  EXPECT_EQ(stock_of(1), 7);  // nothing of it landed
  EXPECT_EQ(flush_feed().changes, 2);  // created, the first change
  EXPECT_EQ(invariant_violations(), 0);
}

constexpr pg::Statement kTestMovement{"test_movement",
                                      "INSERT INTO stock_movements (product_id, delta, kind, order_id) "
                                      "VALUES (1, 1, $1, $2::bigint)"};

// The ledger's CHECKs, array constants since migration 0004: a known kind, and an order id
// exactly for reserve and release.
TEST_F(StoreTest, TheLedgerChecksRefuseAnUnknownKindAndAMissingOrMisplacedOrderId) {
  auto refused_by = [&](const char* kind, pg::Param order_id) -> std::string {
    try {
      pg::exec(*pool_, kTestMovement, {pg::param(kind), std::move(order_id)});
      return "nothing";
    } catch (const pg::Error& e) {
      return e.constraint();
    }
  };
  EXPECT_EQ(refused_by("reserve", pg::param(std::int64_t{10})), "nothing");
  EXPECT_EQ(refused_by("adjust", pg::Param{}), "nothing");
  EXPECT_EQ(refused_by("steal", pg::Param{}), "stock_movements_kind_check");
  EXPECT_EQ(refused_by("release", pg::Param{}), "stock_movements_check");
  EXPECT_EQ(refused_by("take", pg::param(std::int64_t{10})), "stock_movements_check");
}

TEST_F(StoreTest, ReservationIsAllOrNothing) {
  create_product(1, 5);
  create_product(2, 1);
  EXPECT_EQ(reserve_order(10, {{1, 3}, {2, 2}}), ReserveOutcome::Rejected);
  EXPECT_EQ(stock_of(1), 5);
  EXPECT_EQ(stock_of(2), 1);
  EXPECT_EQ(status_of(10), "REJECTED");
  EXPECT_NE(last_payload("inventory.rejected")
                .find(R"({"order_id":10,"reason":"insufficient stock for product 2: requested 2, available 1",)"
                      R"("product_id":2,"requested":2,"available":1})"),
            std::string::npos);

  EXPECT_EQ(reserve_order(11, {{2, 1}, {1, 3}, {1, 2}}), ReserveOutcome::Reserved);
  EXPECT_EQ(stock_of(1), 0);
  EXPECT_EQ(stock_of(2), 0);
  EXPECT_EQ(status_of(11), "RESERVED");
  EXPECT_NE(last_payload("inventory.reserved")
                .find(R"({"order_id":11,"items":[{"product_id":2,"quantity":1},{"product_id":1,"quantity":5}]})"),
            std::string::npos);
  EXPECT_EQ(flush_feed().changes, 4);  // 2 created + one per reserved product
  EXPECT_EQ(events_of("inventory.stock_changed"), 2);
  EXPECT_EQ(invariant_violations(), 0);
  auto found = ReservationStore(*pool_).find(11);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->items, (std::vector<Line>{{1, 5}, {2, 1}}));
}

TEST_F(StoreTest, ASecondOrderCreatedReservesNothingAndAnswersAgain) {
  create_product(1, 5);
  EXPECT_EQ(reserve_order(10, {{1, 2}}), ReserveOutcome::Reserved);
  EXPECT_EQ(reserve_order(10, {{1, 2}}), ReserveOutcome::AlreadyHandled);
  EXPECT_EQ(stock_of(1), 3);
  // The order service re-sends order.created for an order still PENDING: it gets the
  // recorded answer again (reserved or rejected), and stock moves once only.
  EXPECT_EQ(events_of("inventory.reserved"), 2);
  EXPECT_EQ(reserve_order(11, {{1, 9}}), ReserveOutcome::Rejected);
  EXPECT_EQ(reserve_order(11, {{1, 9}}), ReserveOutcome::AlreadyHandled);
  EXPECT_EQ(events_of("inventory.rejected"), 2);
  EXPECT_NE(last_payload("inventory.rejected").find("insufficient stock"), std::string::npos) << last_payload("inventory.rejected");
  EXPECT_EQ(stock_of(1), 3);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, CancelReleasesOnceAndOnlyAReservation) {
  create_product(1, 5);
  reserve_order(10, {{1, 2}});
  EXPECT_EQ(cancel_order(10), CancelAction::Release);
  EXPECT_EQ(stock_of(1), 5);
  EXPECT_EQ(status_of(10), "RELEASED");
  EXPECT_EQ(cancel_order(10), CancelAction::Nothing);
  EXPECT_EQ(stock_of(1), 5);

  reserve_order(11, {{1, 9}});  // rejected: a cancel gives nothing back
  EXPECT_EQ(cancel_order(11), CancelAction::Nothing);
  EXPECT_EQ(stock_of(1), 5);
  EXPECT_EQ(status_of(11), "REJECTED");
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, CancelBeforeCreateLeavesATombstoneThatReservesNothing) {
  create_product(1, 5);
  EXPECT_EQ(cancel_order(10), CancelAction::Tombstone);
  EXPECT_EQ(reserve_order(10, {{1, 2}}), ReserveOutcome::AlreadyHandled);
  EXPECT_EQ(stock_of(1), 5);
  EXPECT_EQ(status_of(10), "CANCELLED");
  EXPECT_EQ(cancel_order(10), CancelAction::Nothing);
  EXPECT_EQ(events_of("inventory.reserved") + events_of("inventory.rejected"), 0);
}

TEST_F(StoreTest, UnknownProductIsWaitedForThenRejected) {
  create_product(1, 5);
  EXPECT_THROW(reserve_order(10, {{1, 1}, {9, 1}}), ProductNotYetKnown);
  EXPECT_EQ(status_of(10), "none");  // rolled back: the retry starts afresh
  EXPECT_EQ(stock_of(1), 5);

  create_product(9, 1);  // its product.created arrived meanwhile
  EXPECT_EQ(reserve_order(10, {{1, 1}, {9, 1}}), ReserveOutcome::Reserved);

  EXPECT_THROW(reserve_order(11, {{8, 1}}, kUnknownProductRetries - 1), ProductNotYetKnown);
  EXPECT_EQ(reserve_order(11, {{8, 1}}, kUnknownProductRetries), ReserveOutcome::Rejected);
  EXPECT_NE(last_payload("inventory.rejected").find(R"("reason":"unknown product 8")"), std::string::npos);
}

TEST_F(StoreTest, DeletedProductIsRejectedAtOnceButReleasedStockComesBack) {
  create_product(1, 5);
  reserve_order(10, {{1, 2}});
  committed([](pg::Transaction& tx) { mark_deleted(tx, 1); });
  EXPECT_EQ(reserve_order(11, {{1, 1}}), ReserveOutcome::Rejected);
  EXPECT_EQ(cancel_order(10), CancelAction::Release);
  EXPECT_EQ(stock_of(1), 5);
  EXPECT_EQ(invariant_violations(), 0);
}

}  // namespace
}  // namespace inventory::testing

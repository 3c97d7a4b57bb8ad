// The store against PostgreSQL: what is written, read back, filtered and moved.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "order_db.hpp"
#include "sales/service/kept_counts.hpp"
#include "sales_test/eventually.hpp"

namespace order {
namespace {

TEST_F(OrderDbTest, InsertKeepsLinesInOrderWithTheFirstHistoryRow) {
  auto placed = place(3, {{9, 1, 500}, {2, 3, 10}, {5, 1000, 1}}, std::nullopt);
  EXPECT_GT(placed.id, 0);
  EXPECT_EQ(placed.status, Status::Pending);
  EXPECT_EQ(placed.total_cents, 1530);
  auto found = store_->find(placed.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->customer_id, 3);
  EXPECT_FALSE(found->shipping_address);
  ASSERT_EQ(found->items.size(), 3u);
  EXPECT_EQ(found->items[0].product_id, 9);
  EXPECT_EQ(found->items[1].unit_price_cents, 10);
  EXPECT_EQ(found->items[2].quantity, 1000);
  ASSERT_EQ(found->history.size(), 1u);
  EXPECT_EQ(found->history[0].status, Status::Pending);
  EXPECT_EQ(found->history[0].reason, "order placed");
  EXPECT_EQ(found->history[0].at, found->created_at) << "one event, one time";
  EXPECT_EQ(found->created_at.size(), 27u);  // 2024-05-01T12:00:00.123456Z
  EXPECT_EQ(found->created_at.back(), 'Z');
  EXPECT_FALSE(store_->find(placed.id + 1000));
}

// GET /orders/{id} reads the order, its lines and its history in one pipeline; a cancel that
// commits between the first read and the last must not give a status its history contradicts.
// Here the history read is held back by a lock until the cancel has committed.
TEST_F(OrderDbTest, AnOrderIsReadFromOneSnapshotWithItsHistory) {
  auto placed = place();
  pg::Connection other(schema_->conninfo());
  other.exec_raw("BEGIN");
  other.exec_raw("LOCK TABLE order_history IN ACCESS EXCLUSIVE MODE");
  other.exec_raw("UPDATE orders SET status = 'CANCELLED' WHERE id = " + std::to_string(placed.id));
  other.exec_raw("INSERT INTO order_history (order_id, status, reason) VALUES (" + std::to_string(placed.id) +
                 ", 'CANCELLED', 'cancelled meanwhile')");
  std::optional<Order> found;
  std::thread reader([&] { found = store_->find(placed.id); });
  // The reader has read the order and waits for the history table's lock.
  pg::Connection watcher(schema_->conninfo());
  const bool waiting = sales_test::eventually([&] {
    return watcher.exec_raw("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'order_history'::regclass")
               .int64(0, 0) > 0;
  });
  other.exec_raw("COMMIT");
  reader.join();
  ASSERT_TRUE(waiting) << "the reader never waited for the history: the test shows nothing";
  ASSERT_TRUE(found);
  ASSERT_FALSE(found->history.empty());
  EXPECT_EQ(found->status, found->history.back().status)
      << "status " << name(found->status) << ", history ends " << name(found->history.back().status);
  EXPECT_EQ(found->history.size(), 1u) << "the cancel committed after the read began";
  auto after = store_->find(placed.id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, Status::Cancelled);
  EXPECT_EQ(after->history.size(), 2u);
}

// The status CHECK, an array constant since migration 0003, allows every status and no other.
TEST_F(OrderDbTest, TheStatusCheckAllowsEveryStatusAndNothingElse) {
  auto placed = place();
  for (const char* status : {"PENDING", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED", "REJECTED", "CANCELLED", "REFUNDED"}) {
    EXPECT_NO_THROW(pg::exec(*pool_, kTestSetStatus, {pg::param(placed.id), pg::param(status)})) << status;
  }
  try {
    pg::exec(*pool_, kTestSetStatus, {pg::param(placed.id), pg::param("pending")});
    ADD_FAILURE() << "an unknown status was stored";
  } catch (const pg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "23514") << e.what();
    EXPECT_EQ(e.constraint(), "orders_status_check");
  }
}

TEST_F(OrderDbTest, MoveWritesHistoryAndRefusesWhatTheGraphForbids) {
  auto placed = place();
  pg::Transaction tx(*pool_);
  auto locked = store_->lock(tx, placed.id);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->total_cents, 3998);
  store_->move(tx, *locked, Status::Confirmed, "stock reserved");
  store_->move(tx, *locked, Status::Paid, "payment 4 confirmed");
  EXPECT_THROW(store_->move(tx, *locked, Status::Pending, "back"), std::logic_error);
  tx.commit();
  auto found = store_->find(placed.id);
  EXPECT_EQ(found->status, Status::Paid);
  ASSERT_EQ(found->history.size(), 3u);
  EXPECT_EQ(found->history[1].reason, "stock reserved");
  EXPECT_EQ(found->history[2].status, Status::Paid);
  EXPECT_GE(found->updated_at, found->created_at);
  // The latest move's history row and the order's updated_at are one time; two moves in one
  // transaction still keep distinct times (read from the clock, not the transaction's start).
  EXPECT_EQ(found->history[2].at, found->updated_at);
  EXPECT_LT(found->history[1].at, found->history[2].at);
}

TEST_F(OrderDbTest, AMoveFromAStatusTheOrderDoesNotHaveFailsLoudlyAndChangesNothing) {
  auto placed = place();
  try {
    pg::Transaction tx(*pool_);
    auto locked = store_->lock(tx, placed.id);
    ASSERT_TRUE(locked);
    locked->status = Status::Confirmed;  // a bug's view: the row is PENDING
    store_->move(tx, *locked, Status::Paid, "payment 4 confirmed");
    tx.commit();
    FAIL() << "a move that matched no row committed";
  } catch (const pg::Error& e) {
    EXPECT_EQ(e.sqlstate(), "23502") << e.what();  // the history row's order_id is NULL
  }
  auto found = store_->find(placed.id);
  EXPECT_EQ(found->status, Status::Pending);
  EXPECT_EQ(found->history.size(), 1u);
}

// As every list's total (sales/pg/total_cache.hpp): a full page reuses a recent count of its
// own filter; asking for a fresh one, or the last page, is exact.
TEST_F(OrderDbTest, AListKeepsARecentTotalPerFilterUnlessAskedOrOnTheLastPage) {
  OrderStore store(*pool_, {.ttl = std::chrono::minutes(1)});
  place(1);
  place(1);
  place(2);
  EXPECT_EQ(store.list({}, {.limit = 1}).total, 3);
  EXPECT_EQ(store.list({.customer_id = 1}, {.limit = 1}).total, 2);
  place(1);
  EXPECT_EQ(store.list({}, {.limit = 1}).total, 3) << "a full page within the minute takes the kept count";
  EXPECT_EQ(store.list({.customer_id = 1}, {.limit = 1}).total, 2);
  EXPECT_EQ(store.list({.customer_id = 1}, {.limit = 1, .fresh_total = true}).total, 3);
  EXPECT_EQ(store.list({.customer_id = 2}, {.limit = 1}).total, 1) << "another filter has its own count";
  EXPECT_EQ(store.list({.status = Status::Pending}, {.limit = 1}).total, 4) << "a status filter has its own count";
  EXPECT_EQ(store.list({}, {.limit = 2, .offset = 3}).total, 4) << "the last page counts its own items";
}

TEST_F(OrderDbTest, ListFiltersPagesAndCarriesItems) {
  auto a = place(1, {{7, 1, 100}});
  auto b = place(2, {{8, 2, 200}, {9, 1, 300}});
  auto c = place(1, {{7, 3, 100}});
  {
    pg::Transaction tx(*pool_);
    auto locked = store_->lock(tx, c.id);
    store_->move(tx, *locked, Status::Rejected, "insufficient stock");
    tx.commit();
  }
  auto all = store_->list({}, {50, 0});
  EXPECT_EQ(all.total, 3);
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[1].id, b.id);
  EXPECT_EQ(all.items[1].items.size(), 2u);
  EXPECT_TRUE(all.items[1].history.empty());

  auto mine = store_->list({.customer_id = 1}, {50, 0});
  EXPECT_EQ(mine.total, 2);
  auto pending_of_1 = store_->list({.customer_id = 1, .status = Status::Pending}, {50, 0});
  ASSERT_EQ(pending_of_1.items.size(), 1u);
  EXPECT_EQ(pending_of_1.items[0].id, a.id);
  auto rejected = store_->list({.status = Status::Rejected}, {50, 0});
  ASSERT_EQ(rejected.items.size(), 1u);
  EXPECT_EQ(rejected.items[0].items[0].quantity, 3);

  auto second_page = store_->list({}, {1, 1});
  EXPECT_EQ(second_page.total, 3);
  ASSERT_EQ(second_page.items.size(), 1u);
  EXPECT_EQ(second_page.items[0].id, b.id);
  EXPECT_TRUE(store_->list({}, {50, 10}).items.empty());

  auto counts = store_->count_by_status();
  EXPECT_EQ(counts[Status::Pending], 2);
  EXPECT_EQ(counts[Status::Rejected], 1);
  EXPECT_FALSE(counts.contains(Status::Paid));
}

inline constexpr pg::Statement kTestDeleteOrder{"test_order_delete", "DELETE FROM orders WHERE id = $1"};
inline constexpr pg::Statement kTestTruncateOrders{"test_order_truncate", "TRUNCATE orders"};
inline constexpr pg::Statement kTestTrueCounts{"test_order_true_counts",
                                               "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status"};

// The counts are kept by triggers, not counted: after inserts, moves, a rolled-back move, a
// direct UPDATE and a delete, they still equal a count of the rows.
TEST_F(OrderDbTest, StatusCountsFollowEveryChangeOfTheRows) {
  auto true_counts = [&] {
    std::map<Status, std::int64_t> out;
    auto r = pg::exec(*pool_, kTestTrueCounts);
    for (int i = 0; i < r.rows(); ++i) out[*parse_status(r.str(i, 0))] = r.int64(i, 1);
    return out;
  };
  auto a = place(), b = place(), c = place();
  {
    pg::Transaction tx(*pool_);
    auto locked = store_->lock(tx, a.id);
    store_->move(tx, *locked, Status::Confirmed, "stock reserved");
    store_->move(tx, *locked, Status::Paid, "paid");
    tx.commit();
  }
  {
    pg::Transaction tx(*pool_);
    auto locked = store_->lock(tx, b.id);
    store_->move(tx, *locked, Status::Rejected, "no stock");
  }  // rolled back: b stays PENDING
  pg::exec(*pool_, kTestSetStatus, {pg::param(c.id), pg::param("CANCELLED")});
  pg::exec(*pool_, kTestSetStatus, {pg::param(c.id), pg::param("CANCELLED")});  // not a move
  auto counts = store_->count_by_status();
  EXPECT_EQ(counts, true_counts());
  EXPECT_EQ(counts[Status::Paid], 1);
  EXPECT_EQ(counts[Status::Pending], 1);
  EXPECT_FALSE(counts.contains(Status::Confirmed)) << "a status whose orders all moved on is not listed";

  pg::exec(*pool_, kTestDeleteOrder, {pg::param(c.id)});
  EXPECT_EQ(store_->count_by_status(), true_counts());
  pg::exec(*pool_, kTestTruncateOrders);
  EXPECT_TRUE(store_->count_by_status().empty());
}

inline constexpr pg::Statement kTestKeptCountRows{"test_order_kept_count_rows", "SELECT count(*) FROM kept_counts"};

// A change appends its rows (none is shared, so no writer waits for another's commit), and
// reading the counts folds them into one row per status.
TEST_F(OrderDbTest, KeptCountRowsAreAppendedAndFoldedWhenRead) {
  auto rows = [&] { return pg::exec(*pool_, kTestKeptCountRows).int64(0, 0); };
  (void)store_->count_by_status();
  const auto before = rows();
  auto a = place();
  place();
  {
    pg::Transaction tx(*pool_);
    auto locked = store_->lock(tx, a.id);
    store_->move(tx, *locked, Status::Confirmed, "stock reserved");
    tx.commit();
  }
  EXPECT_EQ(rows(), before + 4) << "two orders placed, one moved: four rows appended";
  auto counts = store_->count_by_status();
  EXPECT_EQ(counts[Status::Confirmed], 1);
  EXPECT_EQ(rows(), static_cast<std::int64_t>(counts.size())) << "one row per status left";
}

// A TRUNCATE while another replica's refresh folds the counts waits for the fold and
// empties what it wrote too (it left the old sums for good over an empty table).
TEST_F(OrderDbTest, ATruncateDuringAFoldLeavesNoCounts) {
  for (int i = 0; i < 3; ++i) place();
  std::jthread truncate;  // before the fold: should a check fail, the fold ends (its lock goes) first
  pg::Transaction fold(*pool_);
  ASSERT_GT(sales::service::fold_kept_counts(fold, 20'000).removed, 0);
  truncate = std::jthread([&] { pg::exec(*pool_, kTestTruncateOrders); });
  ASSERT_TRUE(sales_test::eventually([&] { return someone_waits_for_a_lock(); }))
      << "the TRUNCATE never waited for the fold";
  fold.commit();
  truncate.join();
  EXPECT_EQ(pg::exec(*pool_, kTestKeptCountRows).int64(0, 0), 0);
  EXPECT_TRUE(store_->count_by_status().empty());
}

// However many rows wait, each statement folds a bounded chunk of them, and one call folds
// them all (within its cap of chunks).
TEST_F(OrderDbTest, KeptCountRowsAreFoldedInChunks) {
  auto rows = [&] { return pg::exec(*pool_, kTestKeptCountRows).int64(0, 0); };
  for (int i = 0; i < 12; ++i) place();
  ASSERT_GE(rows(), 12);
  sales::service::compact_kept_counts(*pool_, 3);
  EXPECT_EQ(rows(), 1) << "every PENDING row folded into one, three at a time";
  EXPECT_EQ(store_->count_by_status()[Status::Pending], 12);
}

}  // namespace
}  // namespace order

// The gauges read counts that triggers keep (migration 0005), not counts of the tables: after
// concurrent reservations and cancels, deletes and a TRUNCATE they still equal the rows.
#include "store/inventory_metrics.hpp"

#include "sales/service/kept_counts.hpp"
#include "store_fixture.hpp"

namespace inventory::testing {
namespace {

inline constexpr pg::Statement kLiveStock{"test_live_stock", "SELECT count(*) FROM stock WHERE NOT deleted"};
inline constexpr pg::Statement kTruncateReservations{"test_truncate_reservations",
                                                     "TRUNCATE reservations, reservation_items"};
inline constexpr pg::Statement kKeptSum{"test_kept_sum", "SELECT COALESCE(sum(n), 0) FROM kept_counts WHERE tbl = $1"};

class InventoryMetricsTest : public StoreTest {
 protected:
  // The gauge's line as rendered, e.g. `sales_inventory_reservations{status="RESERVED"} 7`.
  bool shows(const std::string& line) { return registry_.render().find(line + "\n") != std::string::npos; }
  std::int64_t live_stock() { return pg::exec(*pool_, kLiveStock).int64(0, 0); }

  sales::metrics::Registry registry_;
};

TEST_F(InventoryMetricsTest, TheGaugesEqualTheRowsAfterConcurrentChanges) {
  for (std::int64_t p = 1; p <= 3; ++p) create_product(p, 1000);
  auto failures = run_concurrently(120, [&](int i) {
    reserve_order(100 + i, {{1 + i % 3, 1}});
    if (i % 4 == 0) cancel_order(100 + i);
  });
  ASSERT_TRUE(failures.empty()) << failures.front();
  committed([](pg::Transaction& tx) { mark_deleted(tx, 2); });

  InventoryMetrics metrics(*pool_, registry_, std::chrono::milliseconds(10));
  metrics.start();
  const auto reserved = count_status("RESERVED"), released = count_status("RELEASED");
  EXPECT_EQ(reserved, 90);
  EXPECT_EQ(live_stock(), 2);
  EXPECT_TRUE(eventually([&] {
    return shows("sales_inventory_reservations{status=\"RESERVED\"} " + std::to_string(reserved)) &&
           shows("sales_inventory_reservations{status=\"RELEASED\"} " + std::to_string(released)) &&
           shows("sales_inventory_stock_rows 2");
  })) << registry_.render();

  pg::exec(*pool_, kTruncateReservations);
  EXPECT_TRUE(eventually([&] {
    return shows("sales_inventory_reservations{status=\"RESERVED\"} 0") && shows("sales_inventory_stock_rows 2");
  })) << registry_.render();
}

// Another replica's refresh may be folding the counts when a TRUNCATE runs (tests, an
// operator resetting a staging system): the TRUNCATE waits for the fold, and its emptying
// takes what the fold wrote too. It took only the rows the fold deleted, so the old sums
// stayed for good over an empty table.
TEST_F(InventoryMetricsTest, ATruncateDuringAFoldLeavesNoCounts) {
  create_product(1, 1000);
  for (int i = 0; i < 5; ++i) reserve_order(100 + i, {{1, 1}});
  std::jthread truncate;  // before the fold: should a check fail, the fold ends (its lock goes) first
  pg::Transaction fold(*pool_);
  ASSERT_GT(sales::service::fold_kept_counts(fold, 20'000).removed, 0);
  truncate = std::jthread([&] { pg::exec(*pool_, kTruncateReservations); });
  ASSERT_TRUE(eventually([&] { return someone_waits_for_a_lock(); })) << "the TRUNCATE never waited for the fold";
  fold.commit();
  truncate.join();
  EXPECT_EQ(pg::exec(*pool_, kKeptSum, {pg::param("reservations")}).int64(0, 0), 0);
  EXPECT_EQ(pg::exec(*pool_, kKeptSum, {pg::param("stock")}).int64(0, 0), 1) << "the stock's count is not the TRUNCATE's";
}

}  // namespace
}  // namespace inventory::testing

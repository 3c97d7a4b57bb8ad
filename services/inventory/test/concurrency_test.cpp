// No oversell and no deadlock under concurrency, against a real database: many threads
// reserve, cancel and adjust at once, each in its own transaction as the consumers do.
#include <atomic>

#include "store_fixture.hpp"

namespace inventory::testing {
namespace {

TEST_F(StoreTest, ManyOrdersForSmallStockReserveExactlyTheStock) {
  create_product(1, 7);
  auto failures = run_concurrently(60, [&](int i) { reserve_order(100 + i, {{1, 1}}); });
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(stock_of(1), 0);
  EXPECT_EQ(count_status("RESERVED"), 7);
  EXPECT_EQ(count_status("REJECTED"), 53);
  EXPECT_EQ(events_of("inventory.reserved"), 7);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, OrdersNamingProductsInOppositeOrdersNeverDeadlock) {
  for (std::int64_t p = 1; p <= 4; ++p) create_product(p, 1000);
  // No with_retry here: a deadlock would surface as a failure.
  auto failures = run_concurrently(200, [&](int i) {
    std::vector<Line> lines = {{1, 1}, {2, 1}, {3, 1}, {4, 1}};
    if (i % 2 == 1) std::reverse(lines.begin(), lines.end());
    reserve_order(100 + i, lines);
    if (i % 3 == 0) cancel_order(100 + i);
  });
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, e.g. " << failures.front();
  const std::int64_t cancelled = (200 + 2) / 3;
  for (std::int64_t p = 1; p <= 4; ++p) EXPECT_EQ(stock_of(p), 1000 - 200 + cancelled) << p;
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, TakesAdjustmentsAndReservationsTogetherNeverGoBelowZero) {
  create_product(1, 20);
  std::atomic<int> refused{0};
  auto failures = run_concurrently(300, [&](int i) {
    try {
      switch (i % 3) {
        case 0: reserve_order(100 + i, {{1, 2}}); break;
        case 1: committed([](pg::Transaction& tx) { return change_stock(tx, 1, -3, MovementKind::Take); }); break;
        default: {
          const std::int64_t delta = i % 2 == 0 ? 1 : -1;
          committed([delta](pg::Transaction& tx) { return change_stock(tx, 1, delta, MovementKind::Adjust); });
        }
      }
    } catch (const StockRefused&) {
      ++refused;
    }
  });
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_GT(refused.load(), 0);
  EXPECT_GE(stock_of(1), 0);
  EXPECT_EQ(invariant_violations(), 0);
}

TEST_F(StoreTest, CancelRacingTheReservationEndsWithTheStockBack) {
  create_product(1, 1000);
  // Each order's created and cancelled race on two threads (two replicas' consumers).
  auto failures = run_concurrently(200, [&](int i) {
    std::int64_t order = 100 + i / 2;
    if (i % 2 == 0) reserve_order(order, {{1, 3}});
    else cancel_order(order);
  });
  EXPECT_TRUE(failures.empty()) << failures.front();
  // Whichever came first, a cancelled order holds nothing.
  EXPECT_EQ(stock_of(1), 1000);
  EXPECT_EQ(count_status("RESERVED"), 0);
  EXPECT_EQ(count_status("RELEASED") + count_status("CANCELLED"), 100);
  EXPECT_EQ(invariant_violations(), 0);
}

}  // namespace
}  // namespace inventory::testing

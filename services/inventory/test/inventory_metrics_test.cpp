// The gauges read counts that triggers keep (migration 0005), not counts of the tables: after
// concurrent reservations and cancels, deletes and a TRUNCATE they still equal the rows.
#include "store/inventory_metrics.hpp"

#include "store_fixture.hpp"

namespace inventory::testing {
namespace {

inline constexpr pg::Statement kLiveStock{"test_live_stock", "SELECT count(*) FROM stock WHERE NOT deleted"};
inline constexpr pg::Statement kTruncateReservations{"test_truncate_reservations",
                                                     "TRUNCATE reservations, reservation_items"};

// The metrics thread counts every 10 ms here; a few seconds is plenty on a loaded machine.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

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

}  // namespace
}  // namespace inventory::testing

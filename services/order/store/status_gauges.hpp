#pragma once
// sales_orders{status="..."}: how many orders are in each status. Read by a background
// thread every few seconds, so a scrape never waits on the database (the registry calls
// gauges under its lock) and a busy scraper never adds a query per scrape. The counts are
// kept by triggers (migration 0004): reading them does not scan the orders.
#include <array>
#include <atomic>
#include <chrono>

#include "sales/metrics/metrics.hpp"
#include "sales/service/periodic.hpp"
#include "store/order_store.hpp"

namespace order {

class StatusGauges {
 public:
  StatusGauges(OrderStore& store, sales::metrics::Registry& registry,
               std::chrono::milliseconds refresh = std::chrono::seconds(5));
  ~StatusGauges();  // stops the thread
  StatusGauges(const StatusGauges&) = delete;
  StatusGauges& operator=(const StatusGauges&) = delete;

  void start();  // once the schema exists
  void refresh();  // one count now (the thread's step; public for tests)
  [[nodiscard]] double value(Status s) const;

 private:
  OrderStore& store_;
  std::array<std::atomic<double>, kAllStatuses.size()> counts_{};
  sales::service::Periodic counter_;  // last: stops before the rest goes
};

}  // namespace order

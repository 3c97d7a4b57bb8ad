#pragma once
// What inventory knows about itself, for /metrics: live stock rows and reservations by
// status. A background thread reads them every `refresh` from counts that triggers keep
// (migration 0005); the scrape only reads the last
// counts, because the registry calls gauges under its lock and a query there would hold
// every other metric up (for seconds, when the database is down).
#include <chrono>
#include <memory>

#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales/service/periodic.hpp"

namespace inventory {

class InventoryMetrics {
 public:
  InventoryMetrics(sales::pg::Pool& pool, sales::metrics::Registry& registry,
                   std::chrono::milliseconds refresh = std::chrono::seconds(5));
  ~InventoryMetrics();  // stops

  void start();  // once the database is migrated
  void stop();

 private:
  struct Counts;
  void count();

  sales::pg::Pool& pool_;
  std::shared_ptr<Counts> counts_;  // shared with the registry's callbacks
  bool failing_ = false;            // log a failure once, not every round
  sales::service::Periodic counter_;  // last: stops before the rest goes
};

}  // namespace inventory

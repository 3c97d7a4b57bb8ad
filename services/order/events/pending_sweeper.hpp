#pragma once
// Every order leaves PENDING (DESIGN §4 invariants): an order still PENDING after a while
// has its order.created sent again. Inventory answers a repeat with the outcome it already
// recorded, shipping ignores it, so a reservation answer lost to a dead-lettered message
// or an operator's purge cannot leave an order PENDING forever. The gaps between re-sends
// double (30 s, 30 s, 60 s, 2 min, … up to max_gap): while inventory is down for an hour its
// queue does not fill with copies of every waiting order every 30 s.
#include <chrono>

#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales/service/periodic.hpp"
#include "store/order_store.hpp"

namespace order {

class PendingSweeper {
 public:
  PendingSweeper(sales::pg::Pool& pool, OrderStore& store, sales::metrics::Registry& registry,
                 std::chrono::milliseconds age = std::chrono::seconds(30),
                 std::chrono::milliseconds every = std::chrono::seconds(10),
                 std::chrono::milliseconds max_gap = std::chrono::minutes(15));
  ~PendingSweeper();
  PendingSweeper(const PendingSweeper&) = delete;
  PendingSweeper& operator=(const PendingSweeper&) = delete;

  void start();  // once the schema exists
  int sweep();   // one round now: how many orders were re-sent

 private:
  sales::pg::Pool& pool_;
  OrderStore& store_;
  std::chrono::milliseconds age_;
  std::chrono::milliseconds max_gap_;
  sales::metrics::Counter& resent_;
  sales::service::Periodic sweeper_;  // last: stops before the rest goes
};

}  // namespace order

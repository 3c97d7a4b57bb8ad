#pragma once
// The thread that moves the stock feed to the outbox (stock_feed.hpp), so that a product
// whose stock changes many times within `interval` costs one inventory.stock_changed, one
// publish and one product-service transaction.
//
// It runs only when there is work: a commit that changed stock wakes it (an after-commit
// hook, wake_stock_feed), it waits out the interval, gathering whatever else commits
// meanwhile, then flushes everything pending in one transaction per batch. A slow poll (one
// read-only statement) finds rows no commit of this process announced: left by a replica, or
// by a crash before the flush. Several replicas are safe: each flush locks the rows it takes.
// The thread is a service::Periodic (poll = its interval, interval = its gather) and the
// started flushers are a service::WakeRegistry, as the outbox relays are.
//
// Metrics: sales_inventory_stock_feed_changes_total (changes of stock flushed),
// sales_inventory_stock_feed_events_total (inventory.stock_changed enqueued: changes / events
// is the coalescing), sales_inventory_stock_feed_flushes_total (flush transactions),
// sales_inventory_stock_feed_failures_total.
#include <chrono>
#include <cstdint>
#include <vector>

#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales/service/periodic.hpp"
#include "sales/service/wake_registry.hpp"
#include "store/stock_feed.hpp"

namespace inventory {

struct StockFeedOptions {
  // STOCK_FEED_INTERVAL_MS: how long a woken flusher gathers changes; 0 flushes at once.
  std::chrono::milliseconds interval{50};
  std::chrono::milliseconds poll{1000};  // for rows no wake-up announced; also the retry delay
  int batch_size = 500;                  // rows (products) per flush transaction
};

class StockFeedFlusher {
 public:
  explicit StockFeedFlusher(sales::pg::Pool& pool, StockFeedOptions opts = {},
                            sales::metrics::Registry& registry = sales::metrics::global());
  ~StockFeedFlusher();  // stops
  StockFeedFlusher(const StockFeedFlusher&) = delete;
  StockFeedFlusher& operator=(const StockFeedFlusher&) = delete;

  // Once the database is migrated. The first poll is at once (rows a crash left behind).
  void start();
  // Finishes a running flush, flushes once more (best effort), joins.
  void stop();
  // Stock changed in a committed transaction: flush within the interval. Never throws.
  void announce() noexcept;

 private:
  void round(sales::service::Periodic::Cause cause);
  void flush_all();
  void flush_rows_held_twice(const std::vector<std::int64_t>& skipped);
  void count_held(const FlushCount& held);

  sales::pg::Pool& pool_;
  StockFeedOptions opts_;
  bool failing_ = false;  // log a failure once, not every round
  std::vector<std::int64_t> skipped_before_;  // the last batch's skipped rows (the thread's own)
  sales::metrics::Counter& changes_;
  sales::metrics::Counter& events_;
  sales::metrics::Counter& flushes_;
  sales::metrics::Counter& failures_;
  sales::service::Periodic thread_;  // after what its rounds use: stops before they go
  sales::service::WakeRegistry::Registration started_;  // while started: commits announce to it
};

// The after-commit hook of a transaction that changed stock (Transaction::after_commit_once):
// announces the change to every started flusher of this process.
void wake_stock_feed() noexcept;

}  // namespace inventory

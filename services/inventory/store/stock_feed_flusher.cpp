#include "store/stock_feed_flusher.hpp"

#include <algorithm>
#include <vector>

#include "sales/log/log.hpp"
#include "store/stock_feed.hpp"

namespace inventory {

namespace {
// The started flushers (one per process, but tests start several).
struct Started {
  std::mutex mu;
  std::vector<StockFeedFlusher*> all;
};

Started& started() {
  static Started s;
  return s;
}
}  // namespace

void wake_stock_feed() noexcept {
  std::lock_guard lock(started().mu);
  for (auto* flusher : started().all) flusher->announce();
}

StockFeedFlusher::StockFeedFlusher(sales::pg::Pool& pool, StockFeedOptions opts, sales::metrics::Registry& registry)
    : pool_(pool),
      opts_(opts),
      changes_(registry.counter("sales_inventory_stock_feed_changes_total",
                                "Changes of stock whose level reached the outbox through the stock feed")),
      events_(registry.counter("sales_inventory_stock_feed_events_total",
                               "inventory.stock_changed events the stock feed enqueued (one per product and flush)")),
      flushes_(registry.counter("sales_inventory_stock_feed_flushes_total", "Stock feed flush transactions")),
      failures_(registry.counter("sales_inventory_stock_feed_failures_total", "Stock feed flushes or polls that failed")) {}

StockFeedFlusher::~StockFeedFlusher() { stop(); }

void StockFeedFlusher::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
  std::lock_guard lock(started().mu);
  started().all.push_back(this);
}

void StockFeedFlusher::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(started().mu);  // after this no hook reaches this flusher
    auto& all = started().all;
    all.erase(std::remove(all.begin(), all.end(), this), all.end());
  }
  thread_.request_stop();
  thread_.join();
}

void StockFeedFlusher::announce() noexcept {
  // Only the first commit after a flush began wakes the thread: the rest of a busy interval
  // costs one atomic exchange per commit, no wake-up.
  if (announced_.exchange(true)) return;
  std::lock_guard lock(mu_);  // the waiter checks the flag under it: no lost wake-up
  wake_.notify_all();
}

void StockFeedFlusher::run(std::stop_token st) {
  auto next_poll = std::chrono::steady_clock::now();  // at once: rows a crash left
  while (!st.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_until(lock, st, next_poll, [this] { return announced_.load(); });
      if (st.stop_requested()) break;
      // The window: later commits only set the flag (already set), so only stop ends it early.
      if (announced_.load() && opts_.interval.count() > 0) {
        wake_.wait_for(lock, st, opts_.interval, [] { return false; });
        if (st.stop_requested()) break;
      }
    }
    // Cleared before the flush reads: a commit announced before this point is visible to it,
    // one announced after wakes the next round.
    const bool announced = announced_.exchange(false);
    next_poll = std::chrono::steady_clock::now() + opts_.poll;
    try {
      if (announced || stock_feed_pending(pool_)) flush_all();
      failing_ = false;
    } catch (const std::exception& e) {
      failures_.inc();
      if (!failing_) sales::log::warn("stock feed: flush failed, retrying within {} ms: {}", opts_.poll.count(), e.what());
      failing_ = true;
    }
  }
  try {  // what the last interval gathered; left for the next start or another replica otherwise
    if (announced_.exchange(false)) flush_all();
  } catch (const std::exception& e) {
    sales::log::warn("stock feed: the flush at stop failed, the rows wait for the next poll: {}", e.what());
  }
}

void StockFeedFlusher::flush_all() {
  constexpr int kMaxBatches = 20;  // then the next round, so that a stop is never kept waiting long
  for (int batch = 0; batch < kMaxBatches; ++batch) {
    flushes_.inc();
    auto count = flush_stock_feed(pool_, opts_.batch_size);
    events_.inc(static_cast<std::uint64_t>(count.events));
    changes_.inc(static_cast<std::uint64_t>(count.changes));
    if (count.events < opts_.batch_size) return;  // a full batch: more may wait
  }
  announced_.store(true);
}

}  // namespace inventory

#include "store/stock_feed_flusher.hpp"

#include <algorithm>

#include "sales/log/log.hpp"
#include "store/stock_feed.hpp"

namespace inventory {

namespace {
// The started flushers (one per process, but tests start several).
sales::service::WakeRegistry& started_flushers() {
  static sales::service::WakeRegistry registry;  // outlives the flushers: they unregister at stop
  return registry;
}
}  // namespace

void wake_stock_feed() noexcept { started_flushers().wake_all(); }

StockFeedFlusher::StockFeedFlusher(sales::pg::Pool& pool, StockFeedOptions opts, sales::metrics::Registry& registry)
    : pool_(pool),
      opts_(opts),
      changes_(registry.counter("sales_inventory_stock_feed_changes_total",
                                "Changes of stock whose level reached the outbox through the stock feed")),
      events_(registry.counter("sales_inventory_stock_feed_events_total",
                               "inventory.stock_changed events the stock feed enqueued (one per product and flush)")),
      flushes_(registry.counter("sales_inventory_stock_feed_flushes_total", "Stock feed flush transactions")),
      failures_(registry.counter("sales_inventory_stock_feed_failures_total", "Stock feed flushes or polls that failed")),
      thread_(opts_.poll, [this](sales::service::Periodic::Cause cause) { round(cause); },
              // The first poll at once: rows a crash left. A stop flushes what the last
              // interval gathered; otherwise it waits for the next start or another replica.
              {.first = sales::service::Periodic::First::Now, .gather = opts_.interval, .last_step_if_woken = true}) {}

StockFeedFlusher::~StockFeedFlusher() { stop(); }

void StockFeedFlusher::start() {
  thread_.start();
  if (!started_.active()) started_ = started_flushers().add([this] { announce(); });
}

void StockFeedFlusher::stop() {
  started_.reset();  // after this no commit reaches this flusher
  thread_.stop();
}

// Only the first commit after a flush began wakes the thread (Periodic::wake): the rest of a
// busy interval costs one atomic exchange per commit.
void StockFeedFlusher::announce() noexcept { thread_.wake(); }

void StockFeedFlusher::round(sales::service::Periodic::Cause cause) {
  using Cause = sales::service::Periodic::Cause;
  if (cause == Cause::Stopping) {
    try {  // best effort: what it leaves, the next start or another replica's poll finds
      flush_all();
    } catch (const std::exception& e) {
      sales::log::warn("stock feed: the flush at stop failed, the rows wait for the next poll: {}", e.what());
    }
    return;
  }
  try {
    if (cause == Cause::Woken || stock_feed_pending(pool_)) flush_all();
    failing_ = false;
  } catch (const std::exception& e) {
    failures_.inc();
    if (!failing_) sales::log::warn("stock feed: flush failed, retrying within {} ms: {}", opts_.poll.count(), e.what());
    failing_ = true;
  }
}

// A row skipped once was held by a change in flight and goes with the next round's batch; one
// skipped round after round is a product whose changes queue on its stock row (a flash
// sale's): it is waited for, briefly, so that its read copy moves during the rush.
void StockFeedFlusher::flush_rows_held_twice(const std::vector<std::int64_t>& skipped) {
  std::vector<std::int64_t> again;
  for (auto id : skipped) {
    if (std::find(skipped_before_.begin(), skipped_before_.end(), id) != skipped_before_.end()) again.push_back(id);
  }
  skipped_before_ = skipped;
  if (again.empty()) return;
  constexpr std::chrono::milliseconds kHeldWait{20};
  // The rows committed are counted also when a later one fails.
  struct CountedAtExit {
    StockFeedFlusher& flusher;
    FlushCount held;
    ~CountedAtExit() { flusher.count_held(held); }
  } counted{*this, {}};
  flush_held_rows(pool_, again, kHeldWait, counted.held);
}

void StockFeedFlusher::count_held(const FlushCount& held) {
  flushes_.inc(static_cast<std::uint64_t>(held.events));  // a transaction each
  events_.inc(static_cast<std::uint64_t>(held.events));
  changes_.inc(static_cast<std::uint64_t>(held.changes));
}

void StockFeedFlusher::flush_all() {
  constexpr int kMaxBatches = 20;  // then the next round, so that a stop is never kept waiting long
  for (int batch = 0; batch < kMaxBatches; ++batch) {
    flushes_.inc();
    constexpr int kMaxHeld = 10;
    auto count = flush_stock_feed(pool_, opts_.batch_size, kMaxHeld);
    events_.inc(static_cast<std::uint64_t>(count.events));
    changes_.inc(static_cast<std::uint64_t>(count.changes));
    if (count.events < opts_.batch_size) {
      flush_rows_held_twice(count.skipped);
      return;
    }
  }
  thread_.wake();  // the rest in the next round (or the last one at stop)
}

}  // namespace inventory

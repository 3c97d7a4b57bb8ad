#include "events/pending_sweeper.hpp"

#include <condition_variable>
#include <mutex>

#include "events/order_events.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace {
constexpr int kBatch = 100;
}  // namespace

PendingSweeper::PendingSweeper(sales::pg::Pool& pool, OrderStore& store, sales::metrics::Registry& registry,
                               std::chrono::milliseconds age, std::chrono::milliseconds every)
    : pool_(pool),
      store_(store),
      age_(age),
      every_(every),
      resent_(registry.counter("sales_order_created_resent_total",
                               "order.created sent again for orders still PENDING")) {}

PendingSweeper::~PendingSweeper() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void PendingSweeper::start() {
  thread_ = std::jthread([this](std::stop_token st) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!st.stop_requested()) {
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, st, every_, [] { return false; })) break;
      try {
        sweep();
      } catch (const std::exception& e) {
        sales::log::warn("pending sweep failed, next round retries: {}", e.what());
      }
    }
  });
}

int PendingSweeper::sweep() {
  sales::pg::Transaction tx(pool_);
  auto ids = store_.claim_stale_pending(tx, age_, kBatch);
  for (auto id : ids) {
    auto o = store_.find(tx, id);
    if (o) publish(tx, id, created_event(*o));
  }
  tx.commit();
  if (!ids.empty()) {
    resent_.inc(ids.size());
    sales::log::warn("{} orders still PENDING after {} ms: order.created sent again", ids.size(), age_.count());
  }
  return static_cast<int>(ids.size());
}

}  // namespace order

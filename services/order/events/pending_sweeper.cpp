#include "events/pending_sweeper.hpp"

#include "events/order_events.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace {
constexpr int kBatch = 100;
}  // namespace

PendingSweeper::PendingSweeper(sales::pg::Pool& pool, OrderStore& store, sales::metrics::Registry& registry,
                               std::chrono::milliseconds age, std::chrono::milliseconds every,
                               std::chrono::milliseconds max_gap)
    : pool_(pool),
      store_(store),
      age_(age),
      max_gap_(max_gap),
      resent_(registry.counter("sales_order_created_resent_total",
                               "order.created sent again for orders still PENDING")),
      sweeper_(every, sales::service::warning_on_failure("pending sweep", [this] { sweep(); }),
               sales::service::Periodic::First::AfterInterval) {}

PendingSweeper::~PendingSweeper() = default;

void PendingSweeper::start() { sweeper_.start(); }

int PendingSweeper::sweep() {
  sales::pg::Transaction tx(pool_);
  auto ids = store_.claim_stale_pending(tx, age_, max_gap_, kBatch);
  for (auto id : ids) {
    auto o = store_.find(tx, id);
    if (o) publish(tx, id, created_event(*o));
  }
  tx.commit();
  if (!ids.empty()) {
    resent_.inc(ids.size());
    sales::log::warn("{} orders still PENDING after {} ms or more: order.created sent again", ids.size(),
                     age_.count());
  }
  return static_cast<int>(ids.size());
}

}  // namespace order

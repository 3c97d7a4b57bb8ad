#include "events/unpaid_expiry.hpp"

#include "events/transitions.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace {
constexpr int kBatch = 100;      // orders per transaction
constexpr int kMaxBatches = 50;  // per round: a backlog is worked off over several rounds
}  // namespace

UnpaidExpiry::UnpaidExpiry(sales::pg::Pool& pool, OrderStore& store, sales::metrics::Registry& registry,
                           std::chrono::milliseconds timeout, std::chrono::milliseconds every)
    : pool_(pool),
      store_(store),
      timeout_(timeout),
      cancelled_(registry.counter("sales_order_unpaid_cancelled_total",
                                  "CONFIRMED orders cancelled because no payment came within ORDER_PAYMENT_TIMEOUT_MS")),
      sweeper_(every, sales::service::warning_on_failure("unpaid-order sweep", [this] { sweep(); }),
               sales::service::Periodic::First::AfterInterval) {}

UnpaidExpiry::~UnpaidExpiry() = default;

void UnpaidExpiry::start() {
  if (timeout_.count() > 0) sweeper_.start();
}

int UnpaidExpiry::sweep() {
  const auto ms = timeout_.count();
  const std::string reason = "no payment within " + (ms % 60000 == 0 ? std::to_string(ms / 60000) + " min"
                                                                      : std::to_string(ms) + " ms");
  int total = 0;
  for (int batch = 0; batch < kMaxBatches; ++batch) {
    sales::pg::Transaction tx(pool_);
    auto ids = store_.claim_unpaid(tx, timeout_, kBatch);
    int cancelled = 0;
    for (auto id : ids) {
      auto o = store_.lock(tx, id);  // held since the claim: still CONFIRMED
      if (!o || o->status != Status::Confirmed) continue;
      transition(store_, tx, *o, Status::Cancelled, reason);
      ++cancelled;
    }
    tx.commit();
    total += cancelled;
    cancelled_.inc(cancelled);
    if (static_cast<int>(ids.size()) < kBatch) break;
  }
  if (total > 0) sales::log::info("{} orders unpaid for {} ms cancelled; their stock is released", total, timeout_.count());
  return total;
}

}  // namespace order

#include "store/status_gauges.hpp"

#include "sales/log/log.hpp"

namespace order {

namespace {
std::size_t index_of(Status s) { return static_cast<std::size_t>(s); }
}  // namespace

StatusGauges::StatusGauges(OrderStore& store, sales::metrics::Registry& registry, std::chrono::milliseconds refresh)
    : store_(store), counter_(refresh, [this] { this->refresh(); }) {
  for (Status s : kAllStatuses) {
    registry.callback_gauge("sales_orders", "Orders by status (counted every few seconds)",
                            [this, s] { return value(s); }, {{"status", std::string(name(s))}});
  }
}

StatusGauges::~StatusGauges() = default;

void StatusGauges::start() { counter_.start(); }

void StatusGauges::refresh() {
  try {
    auto counts = store_.count_by_status();
    for (Status s : kAllStatuses) {
      auto it = counts.find(s);
      counts_[index_of(s)].store(it == counts.end() ? 0.0 : static_cast<double>(it->second));
    }
  } catch (const std::exception& e) {
    // The last counts stay; readiness reports the database, not this gauge.
    sales::log::debug("order status counts not refreshed: {}", e.what());
  }
}

double StatusGauges::value(Status s) const { return counts_[index_of(s)].load(); }

}  // namespace order

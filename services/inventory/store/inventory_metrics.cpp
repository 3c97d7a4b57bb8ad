#include "store/inventory_metrics.hpp"

#include <atomic>
#include <map>
#include <string>

#include "domain/reservation.hpp"
#include "sales/log/log.hpp"
#include "sales/service/kept_counts.hpp"

namespace inventory {

namespace pg = sales::pg;

namespace {
// Kept by triggers (migrations 0005, 0006): costs the same however many rows there are.
constexpr pg::Statement kCounts{
    "metrics_counts",
    "SELECT CASE tbl WHEN 'stock' THEN 'stock' ELSE key END, sum(n)::bigint FROM kept_counts "
    "WHERE tbl = 'reservations' OR (tbl = 'stock' AND key = 'live') GROUP BY 1"};
constexpr const char* kStockRows = "stock";
}  // namespace

// One atomic per series, created up front so the callbacks never touch the map's shape.
struct InventoryMetrics::Counts {
  std::map<std::string, std::atomic<double>> by_name;
};

InventoryMetrics::InventoryMetrics(pg::Pool& pool, sales::metrics::Registry& registry,
                                   std::chrono::milliseconds refresh)
    : pool_(pool), counts_(std::make_shared<Counts>()), counter_(refresh, [this] { count(); }) {
  counts_->by_name[kStockRows];
  registry.callback_gauge("sales_inventory_stock_rows", "Products with a live stock row",
                          [counts = counts_] { return counts->by_name.at(kStockRows).load(); });
  for (auto status : {ReservationStatus::Reserved, ReservationStatus::Rejected, ReservationStatus::Released,
                      ReservationStatus::Cancelled}) {
    std::string name(to_string(status));
    counts_->by_name[name];
    registry.callback_gauge(
        "sales_inventory_reservations", "Reservations (orders seen) by status",
        [counts = counts_, name] { return counts->by_name.at(name).load(); }, {{"status", name}});
  }
}

InventoryMetrics::~InventoryMetrics() = default;

void InventoryMetrics::start() { counter_.start(); }

void InventoryMetrics::stop() { counter_.stop(); }

void InventoryMetrics::count() {
  try {
    sales::service::compact_kept_counts(pool_);
    auto r = pg::exec(pool_, kCounts);
    std::map<std::string, double> fresh;  // a status with no rows left counts 0
    for (int i = 0; i < r.rows(); ++i) fresh[r.str(i, 0)] = static_cast<double>(r.int64(i, 1));
    for (auto& [name, value] : counts_->by_name) value.store(fresh[name]);
    failing_ = false;
  } catch (const std::exception& e) {
    if (!failing_) sales::log::warn("inventory metrics: counting failed, keeping the last counts: {}", e.what());
    failing_ = true;
  }
}

}  // namespace inventory

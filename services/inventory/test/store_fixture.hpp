#pragma once
// Integration tests of the stores against a real PostgreSQL: a fresh schema per test in
// sales_test_db (SALES_TEST_DB_CONNINFO, exported by `./sales test`) with the service's
// migrations, and SQL probes of stock, ledger, reservations and outbox.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/service/idempotency.hpp"
#include "sales/service/kept_counts.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/test_db.hpp"
#include "store/reservation_store.hpp"
#include "store/stock_feed.hpp"
#include "store/stock_store.hpp"

namespace inventory::testing {

namespace pg = sales::pg;
using sales_test::eventually;

inline constexpr pg::Statement kStockOf{"test_stock_of", "SELECT stock FROM stock WHERE product_id = $1"};
inline constexpr pg::Statement kEventsOf{"test_events_of", "SELECT count(*) FROM outbox WHERE type = $1"};
inline constexpr pg::Statement kLastPayload{"test_last_payload",
                                            "SELECT payload FROM outbox WHERE type = $1 ORDER BY seq DESC LIMIT 1"};
inline constexpr pg::Statement kStatusOf{"test_status_of", "SELECT status FROM reservations WHERE order_id = $1"};
inline constexpr pg::Statement kCountStatus{"test_count_status", "SELECT count(*) FROM reservations WHERE status = $1"};
// The invariant of DESIGN §4, per product, from the ledger and from the reservations:
// stock = SUM(movements) = initial + adjustments and takes − units held by RESERVED orders.
inline constexpr pg::Statement kInvariantViolations{
    "test_invariant_violations",
    "SELECT count(*) FROM stock s WHERE s.stock <> (SELECT COALESCE(sum(delta), 0) FROM stock_movements m "
    "  WHERE m.product_id = s.product_id) "
    "OR s.stock <> s.initial_stock "
    "  + (SELECT COALESCE(sum(delta), 0) FROM stock_movements m WHERE m.product_id = s.product_id "
    "     AND m.kind IN ('adjust', 'take')) "
    "  - (SELECT COALESCE(sum(i.quantity), 0) FROM reservation_items i JOIN reservations r USING (order_id) "
    "     WHERE i.product_id = s.product_id AND r.status = 'RESERVED') "
    "OR s.stock < 0"};

// Runs body(i) for i in [0, count) on 16 threads, each call in its own transactions as the
// consumers' are; returns the exceptions' messages.
inline std::vector<std::string> run_concurrently(int count, const std::function<void(int)>& body) {
  constexpr int kThreads = 16;
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::jthread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        try {
          body(i);
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          failures.emplace_back(e.what());
        }
      }
    });
  }
  threads.clear();  // joins
  return failures;
}

class StoreTest : public sales_test::DbTest {
 protected:
  StoreTest()
      : DbTest(20, sales::generated::migrations(),
               sales::service::with_idempotency_migrations(
                   {sales::events::migration(), sales::service::kept_counts_migration()})) {}

  // Runs fn in a transaction that commits when fn returns (as the consumer does).
  template <class Fn>
  auto committed(Fn&& fn) {
    pg::Transaction tx(*pool_);
    if constexpr (std::is_void_v<decltype(fn(tx))>) {
      fn(tx);
      tx.commit();
    } else {
      auto result = fn(tx);
      tx.commit();
      return result;
    }
  }

  void create_product(std::int64_t id, std::int64_t stock) {
    committed([&](pg::Transaction& tx) { return create_stock(tx, id, stock); });
  }
  ReserveOutcome reserve_order(std::int64_t order_id, std::vector<Line> lines, int failed_attempts = 0) {
    return committed([&](pg::Transaction& tx) { return reserve(tx, {order_id, std::move(lines), failed_attempts}); });
  }
  CancelAction cancel_order(std::int64_t order_id) {
    return committed([&](pg::Transaction& tx) { return cancel(tx, order_id); });
  }

  std::int64_t stock_of(std::int64_t product_id) {
    return pg::exec(*pool_, kStockOf, {pg::param(product_id)}).int64(0, 0);
  }
  std::int64_t events_of(const char* type) { return pg::exec(*pool_, kEventsOf, {pg::param(type)}).int64(0, 0); }
  std::string last_payload(const char* type) { return pg::exec(*pool_, kLastPayload, {pg::param(type)}).str(0, 0); }
  std::string status_of(std::int64_t order_id) {
    auto r = pg::exec(*pool_, kStatusOf, {pg::param(order_id)});
    return r.empty() ? "none" : r.str(0, 0);
  }
  std::int64_t count_status(const char* status) {
    return pg::exec(*pool_, kCountStatus, {pg::param(status)}).int64(0, 0);
  }
  std::int64_t invariant_violations() { return pg::exec(*pool_, kInvariantViolations).int64(0, 0); }
  // Moves the stock feed to the outbox now, as the flusher does at the end of its interval.
  FlushCount flush_feed() { return flush_stock_feed(*pool_, 500); }
};

}  // namespace inventory::testing

#pragma once
// Tests against the real PostgreSQL: a throwaway schema in sales_test_db with the
// service's migrations (SALES_TEST_DB_CONNINFO; run through `./sales test`).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <vector>

#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/service/idempotency.hpp"
#include "sales/service/kept_counts.hpp"
#include "sales_test/test_db.hpp"
#include "store/order_store.hpp"

namespace order {

namespace pg = sales::pg;

struct PublishedEvent {
  std::string type;
  std::string correlation_id;
  boost::json::object data;
  std::string payload;  // the envelope as published, for checks of exact number formatting
};

inline constexpr pg::Statement kTestClearOutbox{"test_order_clear_outbox", "DELETE FROM outbox"};
inline constexpr pg::Statement kTestOrderCount{"test_order_count", "SELECT count(*) FROM orders"};
// Bypasses the saga (and its history row): for states only the database's rules should judge.
inline constexpr pg::Statement kTestSetStatus{"test_order_set_status", "UPDATE orders SET status = $2 WHERE id = $1"};

class OrderDbTest : public sales_test::DbTest {
 protected:
  OrderDbTest()
      : DbTest(8, sales::generated::migrations(),
               sales::service::with_idempotency_migrations(
                   {sales::events::migration(), sales::service::kept_counts_migration()})) {}
  void SetUp() override {
    DbTest::SetUp();
    store_ = std::make_unique<OrderStore>(*pool_);
  }
  void TearDown() override {
    store_.reset();
    DbTest::TearDown();
  }

  // A PENDING order of customer `customer_id` with lines {product, quantity, unit price}.
  Order place(std::int64_t customer_id = 1, std::vector<PricedLine> lines = {{7, 2, 1999}},
              std::optional<std::string> address = "1 Main St") {
    PricedOrder o{customer_id, std::move(lines), std::move(address)};
    pg::Transaction tx(*pool_);
    auto placed = store_->insert(tx, o, *order_total(o.lines));
    tx.commit();
    return placed;
  }

  // Every event in the outbox, oldest first; the outbox is emptied.
  std::vector<PublishedEvent> take_outbox() {
    std::vector<PublishedEvent> out;
    for (auto& row : outbox()) {
      auto envelope = boost::json::parse(row.payload).as_object();
      out.push_back({std::move(row.type), std::string(envelope.at("correlation_id").as_string()),
                     envelope.at("data").as_object(), std::move(row.payload)});
    }
    pg::exec(*pool_, kTestClearOutbox);
    return out;
  }

  // The one event the outbox holds, of `type` (the test fails otherwise); the outbox is emptied.
  PublishedEvent sole_event(const std::string& type) {
    auto out = take_outbox();
    EXPECT_EQ(out.size(), 1u) << "expected only " << type;
    if (out.empty()) return {};
    EXPECT_EQ(out[0].type, type);
    return out[0];
  }

  std::int64_t order_count() { return pg::exec(*pool_, kTestOrderCount).int64(0, 0); }
  Status status_of(std::int64_t id) { return store_->find(id)->status; }

  std::unique_ptr<OrderStore> store_;
};

}  // namespace order

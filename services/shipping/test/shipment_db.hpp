#pragma once
// Tests against the real PostgreSQL: a throwaway schema in sales_test_db with the
// service's migrations (SALES_TEST_DB_CONNINFO; run through `./sales test`), and the
// consumer's handlers to bring shipments about the way the saga does.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/order_events.hpp"
#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales_test/test_db.hpp"
#include "store/shipment_store.hpp"

namespace shipping {

namespace pg = sales::pg;

inline constexpr pg::Statement kCountShipments{"test_count_shipments",
                                               "SELECT count(*) FROM shipments WHERE order_id = $1"};

// A schema per test, migrated like the service's own database.
class ShipmentDbTest : public sales_test::DbTest {
 protected:
  ShipmentDbTest() : DbTest(10, sales::generated::migrations(), {sales::events::migration()}) {}

  // Made before the test body: tests call store() from several threads at once.
  void SetUp() override {
    DbTest::SetUp();
    store_ = std::make_unique<ShipmentStore>(*pool_);
  }

  // Applies an event the way the consumer does: the dispatcher inside a transaction.
  void deliver(const std::string& type, const std::string& data_json) { deliver_together({{type, data_json}}); }
  // Several events handled in one transaction, in order, as a consumer's batch is.
  void deliver_together(const std::vector<std::pair<std::string, std::string>>& events) {
    pg::Transaction tx(*pool_);
    for (const auto& [type, data_json] : events) {
      sales::events::Envelope e;
      e.id = sales::events::new_uuid();
      e.type = type;
      e.data = boost::json::parse(data_json).as_object();
      order_dispatcher()(tx, e);
    }
    tx.commit();
  }

  std::int64_t shipments_of(std::int64_t order_id) {
    return pg::exec(*pool_, kCountShipments, {pg::param(order_id)}).int64(0, 0);
  }

  // The order's shipment as order.created (and order.paid when `paid`) make it.
  Shipment made_by_event(std::int64_t order_id, bool paid) {
    deliver("order.created", R"({"order_id":)" + std::to_string(order_id) + R"(,"shipping_address":"1 Main St"})");
    if (paid) deliver("order.paid", R"({"order_id":)" + std::to_string(order_id) + R"(,"payment_id":9})");
    return *store().find_by_order(order_id);
  }

  ShipmentStore& store() { return *store_; }

  std::unique_ptr<ShipmentStore> store_;
};

}  // namespace shipping

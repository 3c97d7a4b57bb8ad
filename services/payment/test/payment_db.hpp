#pragma once
// Tests against the real PostgreSQL: a throwaway schema in sales_test_db with the
// service's migrations (SALES_TEST_DB_CONNINFO; run through `./sales test`).
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/service/idempotency.hpp"
#include "sales_test/env.hpp"
#include "store/payment_store.hpp"

namespace payment {

namespace pg = sales::pg;

// A fresh schema in sales_test_db per test, dropped afterwards, so runs never share rows.
// (The platform keeps its own such helper private to platform/test.)
class TestSchema {
 public:
  TestSchema()
      : base_(sales_test::require_env("SALES_TEST_DB_CONNINFO")),
        name_("test_payment_" + sales_test::unique_suffix()) {
    pg::Connection(base_).exec_raw("CREATE SCHEMA " + name_);
  }
  ~TestSchema() {
    try {
      pg::Connection admin(base_);
      admin.exec_raw("SET client_min_messages = warning");
      admin.exec_raw("DROP SCHEMA " + name_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping schema " << name_ << " failed: " << e.what();
    }
  }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  [[nodiscard]] std::unique_ptr<pg::Pool> pool(std::size_t size) const {
    pg::PoolOptions opts;
    opts.conninfo = base_ + " options='-csearch_path=" + name_ + "'";
    opts.size = size;
    return std::make_unique<pg::Pool>(opts);
  }

 private:
  std::string base_;
  std::string name_;
};

inline constexpr pg::Statement kOutbox{"test_payment_outbox", "SELECT type, payload FROM outbox ORDER BY seq"};

class PaymentDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = std::make_unique<TestSchema>();  // throws, failing the test, outside `./sales test`
    pool_ = schema_->pool(8);
    auto migrations = sales::generated::migrations();
    migrations.push_back(sales::events::migration());
    migrations.push_back(sales::service::idempotency_migration());
    pg::migrate(*pool_, migrations);
    store_ = std::make_unique<PaymentStore>(*pool_);
  }
  void TearDown() override {
    store_.reset();
    pool_.reset();
    schema_.reset();
  }

  Payment create(std::int64_t order_id, std::int64_t cents = 1999) {
    pg::Transaction tx(*pool_);
    auto p = create_payment(tx, {order_id, cents});
    tx.commit();
    return p;
  }
  std::optional<Payment> apply(std::int64_t id, PaymentAction a) {
    pg::Transaction tx(*pool_);
    auto p = apply_action(tx, id, a);
    tx.commit();
    return p;
  }
  std::vector<Payment> cancel_order(std::int64_t order_id) {
    pg::Transaction tx(*pool_);
    auto changed = cancel_order_payments(tx, order_id, "customer asked", "PAID");
    tx.commit();
    return changed;
  }
  // (type, payload) of every event in the outbox, oldest first.
  std::vector<std::pair<std::string, std::string>> outbox() {
    auto r = pg::exec(*pool_, kOutbox);
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.str(i, 0), r.str(i, 1));
    return out;
  }

  std::unique_ptr<TestSchema> schema_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PaymentStore> store_;
};

}  // namespace payment

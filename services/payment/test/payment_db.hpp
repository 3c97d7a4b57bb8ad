#pragma once
// Tests against the real PostgreSQL: a throwaway schema in sales_test_db with the
// service's migrations (SALES_TEST_DB_CONNINFO; run through `./sales test`).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/service/idempotency.hpp"
#include "sales_test/test_db.hpp"
#include "store/payment_store.hpp"

namespace payment {

namespace pg = sales::pg;

class PaymentDbTest : public sales_test::DbTest {
 protected:
  PaymentDbTest()
      : DbTest(8, sales::generated::migrations(),
               sales::service::with_idempotency_migrations({sales::events::migration()})) {}
  void SetUp() override {
    DbTest::SetUp();
    store_ = std::make_unique<PaymentStore>(*pool_);
  }
  void TearDown() override {
    store_.reset();
    DbTest::TearDown();
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
  std::unique_ptr<PaymentStore> store_;
};

}  // namespace payment

#pragma once
// A fresh schema per test in sales_test_db (sales_test::TestSchema), migrated like the
// service's own database, dropped afterwards.
#include <gtest/gtest.h>

#include <memory>

#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"
#include "sales_test/test_db.hpp"

namespace shipping::testing {

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = std::make_unique<sales_test::TestSchema>();  // throws, failing the test, outside `./sales test`
    auto migrations = sales::generated::migrations();
    migrations.push_back(sales::events::migration());
    pool_ = schema_->migrated_pool(10, migrations);
  }

  void TearDown() override {
    pool_.reset();
    schema_.reset();
  }

  std::unique_ptr<sales_test::TestSchema> schema_;
  std::unique_ptr<sales::pg::Pool> pool_;
};

}  // namespace shipping::testing

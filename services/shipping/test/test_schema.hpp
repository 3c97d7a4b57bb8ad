#pragma once
// A fresh schema per test in sales_test_db (SALES_TEST_DB_CONNINFO, exported by
// `./sales test`), migrated like the service's own database, dropped afterwards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace shipping::testing {

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("SALES_TEST_DB_CONNINFO");
    if (base == nullptr || *base == '\0') {
      GTEST_FAIL() << "SALES_TEST_DB_CONNINFO is not set: run the tests via `./sales test -R shipping`";
    }
    base_ = base;
    std::mt19937_64 rng{std::random_device{}()};
    schema_ = "test_shipping_" + std::to_string(rng() % 1'000'000'000'000ULL);
    sales::pg::Connection(base_).exec_raw("CREATE SCHEMA " + schema_);
    sales::pg::PoolOptions opts;
    opts.conninfo = base_ + " options='-csearch_path=" + schema_ + "'";
    opts.size = 10;
    pool_ = std::make_unique<sales::pg::Pool>(opts);
    auto migrations = sales::generated::migrations();
    migrations.push_back(sales::events::migration());
    sales::pg::migrate(*pool_, migrations);
  }

  void TearDown() override {
    pool_.reset();
    if (schema_.empty()) return;
    sales::pg::Connection admin(base_);
    admin.exec_raw("SET client_min_messages = warning");
    admin.exec_raw("DROP SCHEMA " + schema_ + " CASCADE");
  }

  std::string base_;
  std::string schema_;
  std::unique_ptr<sales::pg::Pool> pool_;
};

}  // namespace shipping::testing

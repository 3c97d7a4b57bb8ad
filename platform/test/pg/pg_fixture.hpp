#pragma once
// Integration-test fixture for sales::pg against SALES_TEST_DB_CONNINFO (./sales test): each
// test gets a schema of its own (t_<random>), every pool it makes works inside it through
// the conninfo's search_path, and the schema is dropped at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "sales/pg/pool.hpp"
#include "sales_test/env.hpp"

namespace sales_test::pg {

namespace spg = sales::pg;

class PgFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = sales_test::require_env("SALES_TEST_DB_CONNINFO");
    schema_ = "t_" + sales_test::unique_suffix();
    admin_ = std::make_unique<spg::Connection>(conninfo());
    admin_->exec_raw("CREATE SCHEMA " + schema_);
  }

  void TearDown() override {
    if (!admin_) return;
    try {
      admin_->exec_raw("SET client_min_messages = warning");
      admin_->exec_raw("DROP SCHEMA " + schema_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping schema " << schema_ << " failed: " << e.what();
    }
  }

  // Sessions opened with this conninfo resolve unqualified names in the test's schema;
  // application_name tags them so pg_stat_activity can count them.
  [[nodiscard]] std::string conninfo() const {
    return base_ + " connect_timeout=5 application_name=" + schema_ + " options='-csearch_path=" + schema_ + "'";
  }

  std::unique_ptr<spg::Pool> make_pool(std::size_t size = 4,
                                       std::chrono::milliseconds acquire_timeout = std::chrono::milliseconds(2000)) {
    spg::PoolOptions o;
    o.conninfo = conninfo();
    o.size = size;
    o.acquire_timeout = acquire_timeout;
    return std::make_unique<spg::Pool>(o);
  }

  // Plain SQL on the fixture's own connection (outside any pool under test).
  spg::Result sql(const std::string& text) { return admin_->exec_raw(text); }
  std::int64_t count(const std::string& table) { return sql("SELECT count(*) FROM " + table).int64(0, 0); }

  std::string base_;
  std::string schema_;
  std::unique_ptr<spg::Connection> admin_;
};

}  // namespace sales_test::pg

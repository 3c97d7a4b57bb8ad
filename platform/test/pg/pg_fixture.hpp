#pragma once
// Integration-test fixture for sales::pg against SALES_TEST_DB_CONNINFO (./sales test): each
// test gets a schema of its own (sales_test::TestSchema), every pool it makes works inside
// it, and the schema is dropped at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "sales/pg/pool.hpp"
#include "sales_test/test_db.hpp"

namespace sales_test::pg {

namespace spg = sales::pg;

// Sleeps for $1 seconds: a statement that outlives a deadline or a lost server.
inline constexpr spg::Statement kSleep{"test_sleep", "SELECT pg_sleep($1::float8)"};

class PgFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = std::make_unique<TestSchema>();
    admin_ = std::make_unique<spg::Connection>(conninfo());
  }

  void TearDown() override {
    admin_.reset();
    schema_.reset();
  }

  // Sessions opened with this conninfo resolve unqualified names in the test's schema;
  // application_name (the schema's name) tags them so pg_stat_activity can count them.
  [[nodiscard]] std::string conninfo() const { return schema_->conninfo(); }

  std::unique_ptr<spg::Pool> make_pool(std::size_t size = 4,
                                       std::chrono::milliseconds acquire_timeout = std::chrono::milliseconds(2000)) {
    return schema_->pool(size, acquire_timeout);
  }

  // Plain SQL on the fixture's own connection (outside any pool under test).
  spg::Result sql(const std::string& text) { return admin_->exec_raw(text); }
  std::int64_t count(const std::string& table) { return sql("SELECT count(*) FROM " + table).int64(0, 0); }

  std::unique_ptr<TestSchema> schema_;
  std::unique_ptr<spg::Connection> admin_;
};

}  // namespace sales_test::pg

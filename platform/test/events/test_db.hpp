#pragma once
// A fresh schema per test in sales_test_db (SALES_TEST_DB_CONNINFO from `./sales test`),
// so concurrent runs and tests never see each other's outbox or inbox rows.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../amqp/test_env.hpp"
#include "sales/events/outbox.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace sales::testing {

class TestSchema {
 public:
  // Leaves ok() false (and the reason in missing()) when the environment is incomplete.
  TestSchema() {
    auto base = env_var("SALES_TEST_DB_CONNINFO");
    if (!base) return;
    base_ = *base;
    name_ = "test_" + random_suffix();
    pg::Connection admin(base_);
    admin.exec_raw("CREATE SCHEMA " + name_);
  }
  ~TestSchema() {
    if (name_.empty()) return;
    try {
      pg::Connection admin(base_);
      admin.exec_raw("SET client_min_messages = warning");  // no NOTICE per dropped table
      admin.exec_raw("DROP SCHEMA " + name_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping schema " << name_ << " failed: " << e.what();
    }
  }
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  [[nodiscard]] bool ok() const { return !name_.empty(); }
  [[nodiscard]] const std::string& name() const { return name_; }
  // Every session opened with this conninfo works inside the schema.
  [[nodiscard]] std::string conninfo() const { return base_ + " options='-csearch_path=" + name_ + "'"; }

  std::unique_ptr<pg::Pool> pool(std::size_t size = 4) const {
    pg::PoolOptions opts;
    opts.conninfo = conninfo();
    opts.size = size;
    return std::make_unique<pg::Pool>(opts);
  }

 private:
  std::string base_;
  std::string name_;
};

inline constexpr pg::Statement kCountOutbox{"test_count_outbox", "SELECT count(*) FROM outbox"};

inline std::int64_t outbox_rows(pg::Pool& pool) { return pg::exec(pool, kCountOutbox).int64(0, 0); }

}  // namespace sales::testing

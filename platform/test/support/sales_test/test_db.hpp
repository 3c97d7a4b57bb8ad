#pragma once
// One throwaway database per test: a schema of its own (t_<random>) in the database that
// SALES_TEST_DB_CONNINFO names (sales_test_db, exported by `./sales test`), so tests and
// concurrent runs never see each other's rows. Every session opened with conninfo() works
// inside the schema (search_path); the schema and all in it are dropped with the object.
//
//   schema_ = std::make_unique<sales_test::TestSchema>();
//   pool_ = schema_->migrated_pool(8, migrations);   // or pool(), or conninfo()
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace sales_test {

class TestSchema {
 public:
  // Throws (failing the test) when SALES_TEST_DB_CONNINFO is unset or the schema cannot be made.
  TestSchema();
  // A failed drop fails the running test (ADD_FAILURE); it never throws.
  ~TestSchema();
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  // The test database itself, outside the schema: for tests that vary the connection.
  [[nodiscard]] const std::string& database_conninfo() const { return database_; }
  // Sessions opened with it resolve unqualified names in the schema; their application_name
  // is the schema's name (pg_stat_activity can count them) and a connect gives up after 5 s.
  [[nodiscard]] std::string conninfo() const;

  // A pool of sessions inside the schema.
  [[nodiscard]] std::unique_ptr<sales::pg::Pool> pool(
      std::size_t size = 4, std::chrono::milliseconds acquire_timeout = sales::pg::PoolOptions{}.acquire_timeout) const;
  // The same, with `migrations` applied through it, as a service applies its own at start.
  [[nodiscard]] std::unique_ptr<sales::pg::Pool> migrated_pool(
      std::size_t size, const std::vector<sales::pg::Migration>& migrations) const;

 private:
  std::string database_;
  std::string name_;
};

}  // namespace sales_test

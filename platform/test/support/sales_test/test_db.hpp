#pragma once
// One throwaway database per test: a schema of its own (t_<random>) in the database that
// SALES_TEST_DB_CONNINFO names (sales_test_db, exported by `./sales test`), so tests and
// concurrent runs never see each other's rows. Every session opened with conninfo() works
// inside the schema (search_path); the schema and all in it are dropped with the object.
//
//   schema_ = std::make_unique<sales_test::TestSchema>();
//   pool_ = schema_->migrated_pool(8, migrations);   // or pool(), or conninfo()
//
// DbTest is the gtest fixture over it for tests that want one migrated pool.
#include <gtest/gtest.h>

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
  // conninfo(), its sessions sent through a loopback proxy on `port` (a TcpProxy in front of
  // server_host():server_port()): libpq takes the last value of a repeated keyword.
  [[nodiscard]] std::string conninfo_via(int port) const;
  // The PostgreSQL server `./sales test` runs (SALES_PG_HOST, SALES_PG_PORT; 127.0.0.1:5432).
  [[nodiscard]] static std::string server_host();
  [[nodiscard]] static int server_port();

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

// Each test gets schema_ and a pool_ of `pool_size` sessions in it, migrated with `own` (a
// service's sales::generated::migrations()) and then `platform` (the platform tables it also
// uses, e.g. events::migration()); both go after the test. A fixture that adds to SetUp or
// TearDown calls these first (SetUp) or last (TearDown):
//
//   class OrderDbTest : public sales_test::DbTest {
//    protected:
//     OrderDbTest() : DbTest(8, sales::generated::migrations(), {sales::events::migration()}) {}
class DbTest : public ::testing::Test {
 protected:
  DbTest(std::size_t pool_size, std::vector<sales::pg::Migration> own, std::vector<sales::pg::Migration> platform = {});
  void SetUp() override;  // throws, failing the test, outside `./sales test`
  void TearDown() override;

  // An event as enqueued: its type and the envelope (JSON text) the relay will publish.
  struct OutboxRow {
    std::string type;
    std::string payload;
  };
  // Every event in the outbox, oldest first (the schema needs events::migration()).
  [[nodiscard]] std::vector<OutboxRow> outbox() const;
  // Whether a session of this test's schema waits for a lock now: that another thread's
  // statement has reached the lock a test holds.
  [[nodiscard]] bool someone_waits_for_a_lock() const;

  std::unique_ptr<TestSchema> schema_;
  std::unique_ptr<sales::pg::Pool> pool_;

 private:
  std::size_t pool_size_;
  std::vector<sales::pg::Migration> migrations_;
};

}  // namespace sales_test

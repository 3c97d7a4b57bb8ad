#include "sales_test/test_db.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <utility>

#include "sales_test/env.hpp"

namespace sales_test {

namespace pg = sales::pg;

namespace {
constexpr pg::Statement kOutbox{"test_db_outbox", "SELECT type, payload FROM outbox ORDER BY seq"};
// The pool's sessions carry the schema's name as application_name.
constexpr pg::Statement kLockWaiters{
    "test_db_lock_waiters", "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'"};
}  // namespace

TestSchema::TestSchema()
    : database_(require_env("SALES_TEST_DB_CONNINFO")), name_("t_" + unique_suffix()) {
  pg::Connection(database_).exec_raw("CREATE SCHEMA " + name_);
}

TestSchema::~TestSchema() {
  try {
    pg::Connection admin(database_);
    // A test's sessions end with it. One cut off behind a test's TCP proxy keeps running on
    // the server (pg_sleep(60) in unreachable_server_test): its snapshot made every
    // CREATE INDEX CONCURRENTLY in the database wait for it, in the tests that followed.
    admin.exec_raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + name_ +
                   "' AND pid <> pg_backend_pid()");
    admin.exec_raw("SET client_min_messages = warning");  // no NOTICE per dropped table
    admin.exec_raw("DROP SCHEMA " + name_ + " CASCADE");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "dropping schema " << name_ << " failed: " << e.what();
  }
}

std::string TestSchema::conninfo() const {
  return database_ + " connect_timeout=5 application_name=" + name_ + " options='-csearch_path=" + name_ + "'";
}

std::string TestSchema::conninfo_via(int port) const {
  return conninfo() + " host=127.0.0.1 port=" + std::to_string(port);
}

std::string TestSchema::server_host() { return optional_env("SALES_PG_HOST").value_or("127.0.0.1"); }

int TestSchema::server_port() { return static_cast<int>(env_long("SALES_PG_PORT", 5432)); }

std::unique_ptr<pg::Pool> TestSchema::pool(std::size_t size, std::chrono::milliseconds acquire_timeout) const {
  pg::PoolOptions opts;
  opts.conninfo = conninfo();
  opts.size = size;
  opts.acquire_timeout = acquire_timeout;
  return std::make_unique<pg::Pool>(std::move(opts));
}

std::unique_ptr<pg::Pool> TestSchema::migrated_pool(std::size_t size,
                                                    const std::vector<pg::Migration>& migrations) const {
  auto p = pool(size);
  pg::migrate(*p, migrations);
  return p;
}

DbTest::DbTest(std::size_t pool_size, std::vector<pg::Migration> own, std::vector<pg::Migration> platform)
    : pool_size_(pool_size), migrations_(std::move(own)) {
  migrations_.insert(migrations_.end(), platform.begin(), platform.end());
}

void DbTest::SetUp() {
  schema_ = std::make_unique<TestSchema>();
  pool_ = schema_->migrated_pool(pool_size_, migrations_);
}

void DbTest::TearDown() {
  pool_.reset();
  schema_.reset();
}

std::vector<DbTest::OutboxRow> DbTest::outbox() const {
  auto r = pg::exec(*pool_, kOutbox);
  std::vector<OutboxRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.str(i, 0), r.str(i, 1)});
  return out;
}

bool DbTest::someone_waits_for_a_lock() const {
  return pg::exec(*pool_, kLockWaiters, {pg::param(schema_->name())}).int64(0, 0) > 0;
}

}  // namespace sales_test

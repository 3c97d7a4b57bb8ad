// DESIGN §1: "one database and one role per service; a role can reach its own database
// only". With each service's own conninfo (SALES_<NAME>_DB_CONNINFO from ./sales test), the
// role connects to its database, and the same role and password cannot connect to any
// other service's database (nor to the cluster's maintenance databases); over the socket
// (peer login, as the services under ./sales up) the same holds.
#include <gtest/gtest.h>

#include <libpq-fe.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <string>

#include "sales/pg/pool.hpp"
#include "sales_test/env.hpp"

namespace e2e {
namespace {

struct Service {
  const char* name;      // product
  const char* env;       // SALES_PRODUCT_DB_CONNINFO
  const char* database;  // products_db
  const char* role;      // products
};

constexpr Service kServices[] = {
    {"product", "SALES_PRODUCT_DB_CONNINFO", "products_db", "products"},
    {"order", "SALES_ORDER_DB_CONNINFO", "orders_db", "orders"},
    {"customer", "SALES_CUSTOMER_DB_CONNINFO", "customers_db", "customers"},
    {"payment", "SALES_PAYMENT_DB_CONNINFO", "payments_db", "payments"},
    {"inventory", "SALES_INVENTORY_DB_CONNINFO", "inventory_db", "inventory"},
    {"shipping", "SALES_SHIPPING_DB_CONNINFO", "shipping_db", "shipping"},
};

// The conninfo with dbname replaced; connect_timeout keeps a refused attempt short.
std::string with_dbname(const std::string& conninfo, const std::string& db) {
  static const std::regex dbname(R"((^|\s)dbname=\S+)");
  std::string out = std::regex_replace(conninfo, dbname, "$1dbname=" + db);
  if (out == conninfo && conninfo.find("dbname=" + db) == std::string::npos) out += " dbname=" + db;
  return out + " connect_timeout=5";
}

struct Attempt {
  bool ok = false;
  std::string error;
  std::string database, user;
};

Attempt connect(const std::string& conninfo) {
  Attempt a;
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, "SELECT current_database(), current_user");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      a.ok = true;
      a.database = PQgetvalue(r, 0, 0);
      a.user = PQgetvalue(r, 0, 1);
    } else {
      a.error = PQerrorMessage(c);
    }
    PQclear(r);
  } else {
    a.error = PQerrorMessage(c);
  }
  PQfinish(c);
  return a;
}

TEST(DatabaseIsolation, EachRoleConnectsToItsOwnDatabase) {
  for (const auto& s : kServices) {
    auto conninfo = sales_test::require_env(s.env);
    auto a = connect(conninfo + " connect_timeout=5");
    ASSERT_TRUE(a.ok) << s.name << " cannot reach its own database: " << a.error;
    EXPECT_EQ(a.database, s.database) << s.name;
    EXPECT_EQ(a.user, s.role) << s.name;
    // Through the platform's pool too, as the services connect.
    sales::pg::PoolOptions opts;
    opts.conninfo = conninfo;
    sales::pg::Pool pool(opts);
    constexpr sales::pg::Statement kWho{"e2e_who", "SELECT current_database()"};
    EXPECT_EQ(sales::pg::exec(pool, kWho).str(0, 0), s.database) << s.name;
  }
}

TEST(DatabaseIsolation, NoRoleCanConnectToAnotherServicesDatabase) {
  int refused = 0;
  for (const auto& s : kServices) {
    auto conninfo = sales_test::require_env(s.env);
    for (const auto& other : kServices) {
      if (&other == &s) continue;
      auto a = connect(with_dbname(conninfo, other.database));
      EXPECT_FALSE(a.ok) << "role " << s.role << " connected to " << other.database << " (as " << a.user << ")";
      if (!a.ok) ++refused;
      // The refusal is an authorisation failure, not a typo in our conninfo.
      EXPECT_TRUE(a.error.find("pg_hba.conf rejects") != std::string::npos ||
                  a.error.find("no pg_hba.conf entry") != std::string::npos ||
                  a.error.find("permission denied") != std::string::npos ||
                  a.error.find("authentication failed") != std::string::npos)
          << s.role << " -> " << other.database << ": " << a.error;
    }
  }
  EXPECT_EQ(refused, 30);
}

TEST(DatabaseIsolation, NoRoleCanConnectToTheMaintenanceOrTestDatabases) {
  for (const auto& s : kServices) {
    auto conninfo = sales_test::require_env(s.env);
    for (const char* db : {"postgres", "template1", "sales_test_db"}) {
      auto a = connect(with_dbname(conninfo, db));
      EXPECT_FALSE(a.ok) << "role " << s.role << " connected to " << db;
    }
  }
}

TEST(DatabaseIsolation, TheTestRoleCannotReachServiceDatabases) {
  auto conninfo = sales_test::require_env("SALES_TEST_DB_CONNINFO");
  ASSERT_TRUE(connect(conninfo + " connect_timeout=5").ok);
  for (const auto& s : kServices) {
    auto a = connect(with_dbname(conninfo, s.database));
    EXPECT_FALSE(a.ok) << "sales_test connected to " << s.database;
  }
}

TEST(DatabaseIsolation, ThePlatformPoolReportsTheRefusalAsUnavailable) {
  auto conninfo = sales_test::require_env("SALES_PRODUCT_DB_CONNINFO");
  sales::pg::PoolOptions opts;
  opts.conninfo = with_dbname(conninfo, "orders_db");
  opts.acquire_timeout = std::chrono::milliseconds(500);
  sales::pg::Pool pool(opts);
  EXPECT_THROW(pool.acquire(), sales::pg::Unavailable);
  EXPECT_EQ(pool.in_use(), 0u) << "a failed connect does not hold a slot";
}

// Under ./sales up the services log in over the socket by peer (pg_ident maps the OS user
// that runs ./sales, and so these tests, to each service role): there too a role reaches
// its own database only. Run as root (CI), that user is not the superuser either: the
// cluster runs as `postgres`, the only OS user mapped to it. (Run as a normal user, the
// cluster is that user's own, and it is mapped to the superuser on purpose: ./sales psql.)
TEST(DatabaseIsolation, OverTheSocketEachRoleReachesOnlyItsOwnDatabase) {
  auto socket_dir = sales_test::require_env("SALES_PG_SOCKET_DIR");
  auto port = sales_test::require_env("SALES_PG_PORT");
  auto over_socket = [&](const char* role, const std::string& db) {
    return connect("host=" + socket_dir + " port=" + port + " user=" + role + " dbname=" + db + " connect_timeout=5");
  };
  int refused = 0;
  for (const auto& s : kServices) {
    auto own = over_socket(s.role, s.database);
    ASSERT_TRUE(own.ok) << s.role << " cannot reach " << s.database << " over the socket: " << own.error;
    EXPECT_EQ(own.user, s.role);
    for (const auto& other : kServices) {
      if (&other == &s) continue;
      auto a = over_socket(s.role, other.database);
      EXPECT_FALSE(a.ok) << "role " << s.role << " connected to " << other.database << " over the socket";
      EXPECT_NE(a.error.find("pg_hba.conf rejects"), std::string::npos) << s.role << " -> " << other.database << ": " << a.error;
      if (!a.ok) ++refused;
    }
  }
  EXPECT_EQ(refused, 30);
  if (::geteuid() != 0) return;
  for (const char* db : {"postgres", "products_db"}) {
    auto super = over_socket("postgres", db);
    EXPECT_FALSE(super.ok) << "root logged in as the superuser to " << db;
    EXPECT_NE(super.error.find("Peer authentication failed"), std::string::npos) << super.error;
  }
}

}  // namespace
}  // namespace e2e

// pg::transport_options: what libpq is told not to negotiate (no GSS; no TLS on loopback),
// and that PGGSSENCMODE / PGSSLMODE still decide when set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "sales/pg/pool.hpp"

namespace {

// Sets (or unsets) a variable for the scope of a test and restores it afterwards.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~EnvVar() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(PgTransport, LoopbackHostsGetNeitherGssNorTls) {
  EnvVar gss("PGGSSENCMODE", nullptr), ssl("PGSSLMODE", nullptr);
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "/var/run/postgresql"}) {
    EXPECT_EQ(sales::pg::transport_options(host), " gssencmode=disable sslmode=disable") << host;
  }
}

TEST(PgTransport, RemoteHostsKeepLibpqsTlsDefault) {
  EnvVar gss("PGGSSENCMODE", nullptr), ssl("PGSSLMODE", nullptr);
  EXPECT_EQ(sales::pg::transport_options("db.internal"), " gssencmode=disable");
  EXPECT_EQ(sales::pg::transport_options("10.0.0.7"), " gssencmode=disable");
}

TEST(PgTransport, EnvironmentWins) {
  EnvVar gss("PGGSSENCMODE", "prefer"), ssl("PGSSLMODE", "require");
  EXPECT_EQ(sales::pg::transport_options("127.0.0.1"), "");
}

// Empty is unset (Compose's PGSSLMODE= for an unset ${PGSSLMODE}); libpq alone would refuse
// the mode "".
TEST(PgTransport, AnEmptyVariableIsUnset) {
  EnvVar gss("PGGSSENCMODE", ""), ssl("PGSSLMODE", "");
  EXPECT_EQ(sales::pg::transport_options("127.0.0.1"), " gssencmode=disable sslmode=disable");
  EXPECT_EQ(sales::pg::transport_options("db.internal"), " gssencmode=disable sslmode=prefer");
}

}  // namespace

#include "database.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

#include "sales/service/app.hpp"

namespace sales::service {

pg::Pool& App::db() {
  if (!pool_) throw std::logic_error(opts_.name + " has no database");
  return *pool_;
}

namespace database {

std::shared_ptr<pg::Pool> open(const Settings& s, pg::PoolOptions options) {
  auto transport = pg::transport_options(s.host);
  if (transport.find("sslmode=disable") != std::string::npos) {
    // Without TLS, libpq uses OpenSSL only for SCRAM (hashes, HMAC, random), whose errors
    // do not read OpenSSL's error strings. Loading them at OpenSSL's first use costs
    // about 0.5 MB of RSS (the table, and the code of every module that registers some).
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr);
  }
  options.conninfo =
      pg::conninfo(s.host, s.port, s.name, s.user, s.password, options.connect_timeout, options.tcp_user_timeout) +
      transport;
  return std::make_shared<pg::Pool>(std::move(options));
}

int migrate(pg::Pool& pool, const std::vector<pg::Migration>& migrations) { return pg::migrate(pool, migrations); }

void ping(pg::Pool& pool) {
  static constexpr pg::Statement kPing{"health_ping", "SELECT 1"};
  pg::exec(pool, kPing);
}

}  // namespace database
}  // namespace sales::service

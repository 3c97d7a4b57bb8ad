#include "database.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

#include "sales/metrics/metrics.hpp"
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
  auto pool = std::make_shared<pg::Pool>(std::move(options));
  // The pool lives as long as the App, which serves /metrics: a raw pointer is safe here.
  auto& registry = metrics::global();
  registry.callback_gauge("db_pool_connections", "Open database connections of the pool, by state",
                          [p = pool.get()] { return static_cast<double>(p->idle()); }, {{"state", "idle"}});
  registry.callback_gauge("db_pool_connections", "Open database connections of the pool, by state",
                          [p = pool.get()] { return static_cast<double>(p->in_use()); }, {{"state", "in_use"}});
  registry.gauge("db_pool_size", "Most connections the pool opens (DB_POOL_SIZE)").set(static_cast<double>(pool->size()));
  return pool;
}

int migrate(pg::Pool& pool, const std::vector<pg::Migration>& migrations) { return pg::migrate(pool, migrations); }

std::size_t open_at_start(pg::Pool& pool) { return pool.open_at_start(); }

void ping(pg::Pool& pool) {
  static constexpr pg::Statement kPing{"health_ping", "SELECT 1"};
  pg::exec(pool, kPing);
}

}  // namespace database
}  // namespace sales::service

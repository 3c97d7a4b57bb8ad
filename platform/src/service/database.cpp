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
    // Without TLS, libpq uses OpenSSL only for SCRAM (hashes, HMAC, random; none of it over
    // ./sales up's socket, where the services log in by peer), whose errors
    // do not read OpenSSL's error strings. Loading them at OpenSSL's first use costs
    // about 0.5 MB of RSS (the table, and the code of every module that registers some).
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr);
  }
  options.conninfo =
      pg::conninfo(s.host, s.port, s.name, s.user, s.password, options.connect_timeout, options.tcp_user_timeout) +
      transport;
  auto pool = std::make_shared<pg::Pool>(std::move(options));
  // The registry is global and outlives any App: the gauges read the pool while it lives.
  auto& registry = metrics::global();
  auto read = [weak = std::weak_ptr<pg::Pool>(pool)](std::size_t (pg::Pool::*what)() const) {
    return [weak, what] {
      auto p = weak.lock();
      return p ? static_cast<double>(((*p).*what)()) : 0.0;
    };
  };
  const std::string help = "Open database connections of the pool: idle, or in use (leased, or being opened)";
  registry.callback_gauge("db_pool_connections", help, read(&pg::Pool::idle), {{"state", "idle"}});
  registry.callback_gauge("db_pool_connections", help, read(&pg::Pool::in_use), {{"state", "in_use"}});
  registry.gauge("db_pool_size", "Most connections the pool opens (DB_POOL_SIZE)").set(static_cast<double>(pool->size()));
  registry.gauge("db_pool_open_at_start", "Connections the pool opens before the service is ready (DB_POOL_OPEN_AT_START)")
      .set(static_cast<double>(pool->options().open_at_start));
  return pool;
}

int migrate(pg::Pool& pool, const std::vector<pg::Migration>& migrations, const std::atomic<bool>& stop) {
  return pg::migrate(pool, migrations, &stop);
}

std::size_t open_at_start(pg::Pool& pool) {
  pool.open_at_start();
  return pool.open();
}

std::size_t open_connections(const pg::Pool& pool) { return pool.open(); }

void ping(pg::Pool& pool) {
  static constexpr pg::Statement kPing{"health_ping", "SELECT 1"};
  pg::exec(pool, kPing);
}

}  // namespace database
}  // namespace sales::service

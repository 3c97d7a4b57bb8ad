#include "database.hpp"

#include <stdexcept>

#include "sales/service/app.hpp"

namespace sales::service {

pg::Pool& App::db() {
  if (!pool_) throw std::logic_error(opts_.name + " has no database");
  return *pool_;
}

namespace database {

std::shared_ptr<pg::Pool> open(const Settings& s, pg::PoolOptions options) {
  options.conninfo = pg::conninfo(s.host, s.port, s.name, s.user, s.password, options.connect_timeout) +
                     pg::transport_options(s.host);
  return std::make_shared<pg::Pool>(std::move(options));
}

int migrate(pg::Pool& pool, const std::vector<pg::Migration>& migrations) { return pg::migrate(pool, migrations); }

void ping(pg::Pool& pool) {
  static constexpr pg::Statement kPing{"health_ping", "SELECT 1"};
  pg::exec(pool, kPing);
}

}  // namespace database
}  // namespace sales::service

// Customer service: who buys. Wiring only.
#include "api/customer_handlers.hpp"
#include "sales/service/app.hpp"
#include "sales/service/idempotency.hpp"
#include "store/customer_store.hpp"

int main() {
  sales::service::App app({.name = "customer", .default_port = 8003});
  auto migrations = sales::service::with_idempotency_migrations(sales::generated::migrations());
  app.set_migrations(migrations);
  customer::CustomerStore store(app.db(), sales::pg::read_total_cache_config(app.env()));
  customer::register_routes(app.router(), store);
  return app.run();
}

// Product service: the catalogue, with a read copy of stock kept from inventory events.
#include "api/product_handlers.hpp"
#include "events/stock_events.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/service/app.hpp"
#include "sales/service/idempotency.hpp"
#include "sales/service/messaging.hpp"
#include "store/product_store.hpp"

int main() {
  sales::service::App app({.name = "product", .default_port = 8001, .uses_broker = true});
  auto migrations = sales::service::with_idempotency_migrations(sales::generated::migrations());
  sales::service::Messaging messaging(app, migrations, {.queue = sales::events::kProductQueue},
                                      product::stock_dispatcher());
  product::ProductStore store(app.db(), sales::pg::read_total_cache_config(app.env()));
  product::register_routes(app.router(), store);
  return app.run();
}

// Order service: orders, their lines and their status; the saga's authority. Wiring only.
#include <algorithm>
#include <chrono>

#include "api/order_handlers.hpp"
#include "api/rest_directory.hpp"
#include "events/pending_sweeper.hpp"
#include "events/saga_consumer.hpp"
#include "events/unpaid_expiry.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/service/app.hpp"
#include "sales/service/idempotency.hpp"
#include "sales/service/kept_counts.hpp"
#include "sales/service/messaging.hpp"
#include "store/order_store.hpp"
#include "store/status_gauges.hpp"

int main() {
  sales::service::App app({.name = "order", .default_port = 8002, .uses_broker = true});
  sales::http::Client customers(order::upstream_options(app.env(), "CUSTOMER_SERVICE_URL", "http://127.0.0.1:8003"));
  sales::http::Client products(order::upstream_options(app.env(), "PRODUCT_SERVICE_URL", "http://127.0.0.1:8001"));
  auto payment_options = order::upstream_options(app.env(), "PAYMENT_SERVICE_URL", "http://127.0.0.1:8004");
  // Asked before a ship, inside shipping's own 2 s call to this service: answered, or given
  // up on, well within it, so shipping hears our 503 rather than timing out itself.
  payment_options.timeout = std::min(payment_options.timeout, std::chrono::milliseconds(1000));
  sales::http::Client payments(payment_options);
  order::RestDirectory directory(customers, products, payments);

  order::OrderStore store(app.db(), sales::pg::read_total_cache_config(app.env()));
  auto migrations = sales::service::with_idempotency_migrations(sales::generated::migrations());
  migrations.push_back(sales::service::kept_counts_migration());
  sales::service::Messaging messaging(app, migrations, {.queue = sales::events::kOrderQueue},
                                      order::saga_dispatcher(store, app.metrics()));
  order::StatusGauges gauges(store, app.metrics());
  order::PendingSweeper sweeper(app.db(), store, app.metrics());
  // 0: a CONFIRMED order waits for its payment for ever. At most 30 days.
  order::UnpaidExpiry expiry(app.db(), store, directory, app.metrics(),
                             app.env().millis("ORDER_PAYMENT_TIMEOUT_MS", 3'600'000, 0, 2'592'000'000));
  app.on_database_ready([&gauges, &sweeper, &expiry] {
    gauges.start();
    sweeper.start();
    expiry.start();
  });

  order::register_routes(app.router(), {store, directory, app.db()});
  return app.run();
}

// Inventory service: the single source of truth for stock; reserves and releases orders'
// stock from the saga's events. Wiring only.
#include "api/stock_handlers.hpp"
#include "events/consumed.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/service/app.hpp"
#include "sales/service/idempotency.hpp"
#include "sales/service/kept_counts.hpp"
#include "sales/service/messaging.hpp"
#include "store/inventory_metrics.hpp"
#include "store/stock_feed_flusher.hpp"

int main() {
  sales::service::App app({.name = "inventory", .default_port = 8005, .uses_broker = true});
  auto migrations = sales::service::with_idempotency_migrations(sales::generated::migrations());
  migrations.push_back(sales::service::kept_counts_migration());
  // Delays 0.2 s doubling to 5 s: an order.created for a product whose product.created is
  // still in flight is retried for about 60 s (kUnknownProductRetries), then rejected; the
  // DLQ only after a few attempts more.
  sales::service::Messaging messaging(app, migrations,
                                      {.queue = sales::events::kInventoryQueue,
                                       .max_attempts = inventory::kUnknownProductRetries + 4,
                                       .retry_delay_max = std::chrono::seconds(5)},
      inventory::inventory_dispatcher());
  inventory::StockStore stock(app.db(), sales::pg::read_total_cache_config(app.env()));
  inventory::ReservationStore reservations(app.db());
  // Asked only about a product with no stock here: one created moments ago (product_check.hpp).
  inventory::RestProductCheck products(inventory::product_service_url(app.env()));
  inventory::register_routes(app.router(), app.db(), stock, reservations, products);
  inventory::InventoryMetrics metrics(app.db(), app.metrics());
  // 50 ms: a hot product's changes within it cost one stock_changed; far below the second a
  // product answer may be cached anyway (the gateway's max-age=1).
  inventory::StockFeedFlusher feed(app.db(), {.interval = app.env().millis("STOCK_FEED_INTERVAL_MS", 50, 0, 60000)},
                                   app.metrics());
  app.on_database_ready([&metrics, &feed] {
    metrics.start();
    feed.start();
  });
  app.on_stop([&metrics, &feed] {
    metrics.stop();
    feed.stop();
  });
  return app.run();
}

// Payment service: takes payments for confirmed orders, confirms and refunds them, and
// undoes them when their order is cancelled. Wiring only.
#include "api/order_client.hpp"
#include "api/payment_handlers.hpp"
#include "events/payment_events.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/service/app.hpp"
#include "sales/service/idempotency.hpp"
#include "sales/service/messaging.hpp"
#include "store/payment_store.hpp"

int main() {
  sales::service::App app({.name = "payment", .default_port = 8004, .uses_broker = true});
  auto migrations = sales::service::with_idempotency_migrations(sales::generated::migrations());
  sales::service::Messaging messaging(app, migrations, {.queue = sales::events::kPaymentQueue},
                                      payment::order_events_dispatcher());
  payment::OrderClient orders(payment::order_client_options(app.env()));
  payment::PaymentStore store(app.db(), sales::pg::read_total_cache_config(app.env()));
  payment::register_routes(app.router(), store, orders);
  return app.run();
}

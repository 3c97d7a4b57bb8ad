// Shipping service: one shipment per order, made and cancelled by the order saga's events,
// shipped and delivered by PUT. Wiring only.
#include "api/order_client.hpp"
#include "api/shipping_handlers.hpp"
#include "events/order_events.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/service/app.hpp"
#include "sales/service/messaging.hpp"
#include "store/shipment_store.hpp"

int main() {
  sales::service::App app({.name = "shipping", .default_port = 8006, .uses_broker = true});
  // order.paid may overtake order.created (a retry, competing consumers): it is retried,
  // and more patiently than the default so the shipment has time to appear.
  sales::service::Messaging messaging(
      app, sales::generated::migrations(),
      {.queue = sales::events::kShippingQueue, .max_attempts = 10, .retry_delay_max = std::chrono::seconds(10)},
      shipping::order_dispatcher());
  shipping::ShipmentStore store(app.db(), sales::pg::read_total_cache_config(app.env()));
  shipping::OrderClient orders(shipping::order_service_url(app.env()));
  shipping::register_routes(app.router(), store, orders);
  return app.run();
}

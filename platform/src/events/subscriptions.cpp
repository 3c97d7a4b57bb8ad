#include "sales/events/subscriptions.hpp"

namespace sales::events {

// Mirrors the event table of docs/saga.md; change both together.

const std::vector<Subscription>& system_subscriptions() {
  static const std::vector<Subscription> table = {
      // Reserves stock for new orders, puts it back on cancel; takes over initial stock.
      {kInventoryQueue, {"order.created", "order.cancelled", "product.created", "product.deleted"}},
      // Creates the shipment, cancels it on rejection or cancel, may ship once paid.
      {kShippingQueue, {"order.created", "order.rejected", "order.paid", "order.shipped", "order.cancelled"}},
      // The saga's authority: reservation outcome, payment, shipment progress.
      {kOrderQueue,
       {"inventory.reserved", "inventory.rejected", "payment.confirmed", "payment.refunded", "shipment.shipped",
        "shipment.delivered"}},
      // Refunds a confirmed payment (cancels a pending one) when its order is cancelled.
      {kPaymentQueue, {"order.cancelled"}},
      // Keeps the catalogue's read copy of stock.
      {kProductQueue, {"inventory.stock_changed"}},
  };
  return table;
}

std::vector<std::string> subscribed_types(const std::string& queue) {
  for (const auto& s : system_subscriptions()) {
    if (s.queue == queue) return s.routing_keys;
  }
  return {};
}

}  // namespace sales::events

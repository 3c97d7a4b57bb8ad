#pragma once
// What inventory consumes from inventory_queue (docs/saga.md): product.created,
// product.deleted, order.created, order.cancelled.
#include "sales/events/consumer.hpp"
#include "store/reservation_store.hpp"

namespace inventory {

sales::events::Dispatcher inventory_dispatcher();

// Decoding of event data; a member missing or out of range is a contract breach that no
// retry can mend: events::PoisonEvent (the message goes to the DLQ, visible in metrics).
inline constexpr std::size_t kMaxOrderLines = 1000;
struct InitialStock {
  std::int64_t product_id = 0;
  std::int64_t stock = 0;
};
InitialStock decode_product_created(const sales::events::Envelope& e);
std::int64_t decode_product_id(const sales::events::Envelope& e);  // product.deleted
OrderLines decode_order_created(const sales::events::Envelope& e);
std::int64_t decode_order_id(const sales::events::Envelope& e);  // order.cancelled

}  // namespace inventory

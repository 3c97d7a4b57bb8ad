#pragma once
// Which queue consumes which event types: the one table of the saga's wiring (DESIGN §4).
// Every outbox relay declares all of it before publishing, so an event published while
// its consumer service has never run yet waits in that consumer's queue instead of being
// dropped by the exchange as unroutable. Each Consumer also binds its own handled types.
// Changing a binding here is a contract change: tell the owners of both sides.
#include <string>
#include <vector>

namespace sales::events {

inline constexpr const char* kInventoryQueue = "inventory_queue";  // the seed's names
inline constexpr const char* kShippingQueue = "shipping_queue";
inline constexpr const char* kOrderQueue = "order_queue";
inline constexpr const char* kPaymentQueue = "payment_queue";
inline constexpr const char* kProductQueue = "product_queue";

struct Subscription {
  std::string queue;
  std::vector<std::string> routing_keys;  // event types (topic patterns allowed)
};

const std::vector<Subscription>& system_subscriptions();
// The routing keys of `queue` in the table (empty if it is not there).
std::vector<std::string> subscribed_types(const std::string& queue);

}  // namespace sales::events

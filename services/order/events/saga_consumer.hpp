#pragma once
// The order service's consumer of order_queue (docs/saga.md): moves orders along the
// saga as inventory, payment and shipping report, each move with a history row and the
// event announcing it, all in the consumer's transaction (which also records the inbox
// row, so a redelivered event changes nothing). An event that does not fit the order's
// status is ignored, logged and counted in sales_order_saga_events_ignored_total.
#include "sales/events/consumer.hpp"
#include "sales/metrics/metrics.hpp"
#include "store/order_store.hpp"

namespace order {

sales::events::Dispatcher saga_dispatcher(OrderStore& store,
                                          sales::metrics::Registry& registry = sales::metrics::global());

// The reason written to history when inventory rejects: its own text, or one rebuilt from
// the numbers when the text is missing.
std::string rejection_reason(const boost::json::object& data);

}  // namespace order

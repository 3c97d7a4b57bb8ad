#pragma once
// One step of an order along the saga, the same whoever takes it (a client's cancel or an
// event): the status, its history row and the event announcing it, in one transaction.
#include "events/order_events.hpp"
#include "store/order_store.hpp"

namespace order {

// `order` must be locked in `tx`; its status becomes `to`.
void transition(OrderStore& store, sales::pg::Transaction& tx, LockedOrder& order, Status to, const std::string& reason,
                std::optional<std::int64_t> payment_id = std::nullopt);

}  // namespace order

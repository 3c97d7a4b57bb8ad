#include "events/transitions.hpp"

namespace order {

void transition(OrderStore& store, sales::pg::Transaction& tx, LockedOrder& order, Status to, const std::string& reason,
                std::optional<std::int64_t> payment_id) {
  Transition t{order.id, order.status, to, reason, order.total_cents, payment_id};
  store.move(tx, order, to, reason, payment_id);
  if (auto announced = transition_event(t)) publish(tx, order.id, *announced);
}

}  // namespace order

#pragma once
// How the order, the saga's authority, answers each event of the other services
// (docs/saga.md): a pure function of the event and the order's current status.
#include <vector>

#include "domain/order.hpp"

namespace order {

enum class SagaEvent {
  StockReserved,      // inventory.reserved
  StockRejected,      // inventory.rejected
  PaymentConfirmed,   // payment.confirmed
  PaymentRefunded,    // payment.refunded
  ShipmentShipped,    // shipment.shipped
  ShipmentDelivered,  // shipment.delivered
};

struct Reaction {
  enum class Kind {
    Ignore,           // the event does not fit the current status: log and count it, no retry
    Advance,          // walk `path`, one transition (and history row) per status
    RepublishCancel,  // money arrived for a dead order: announce the cancel again so it is refunded
  };
  Kind kind = Kind::Ignore;
  std::vector<Status> path;
};

Reaction react(SagaEvent event, Status current);

}  // namespace order

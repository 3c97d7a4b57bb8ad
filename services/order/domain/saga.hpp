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

// `paid_by_another`: a payment event about a payment other than the one that made the order
// PAID (known once it is PAID). A refund of such a payment is late news of a payment refunded
// before this one paid: the order stays with the payment it has.
Reaction react(SagaEvent event, Status current, bool paid_by_another = false);

}  // namespace order

#include "domain/saga.hpp"

namespace order {

namespace {
Reaction advance(std::vector<Status> path) { return {Reaction::Kind::Advance, std::move(path)}; }
constexpr Reaction kIgnore{};
}  // namespace

Reaction react(SagaEvent event, Status current, bool paid_by_another) {
  using enum Status;
  switch (event) {
    case SagaEvent::StockReserved:
      return current == Pending ? advance({Confirmed}) : kIgnore;
    case SagaEvent::StockRejected:
      return current == Pending ? advance({Rejected}) : kIgnore;
    case SagaEvent::PaymentConfirmed:
      if (current == Confirmed) return advance({Paid});
      // The payment was confirmed before the payment service saw the cancel (or the
      // rejection): a fresh order.cancelled makes it refund the money.
      if (current == Cancelled || current == Rejected) return {Reaction::Kind::RepublishCancel, {}};
      return kIgnore;
    case SagaEvent::PaymentRefunded:
      if (paid_by_another) return kIgnore;
      if (current == Confirmed || current == Paid) return advance({Cancelled});
      if (current == Shipped || current == Delivered) return advance({Refunded});
      return kIgnore;
    case SagaEvent::ShipmentShipped:
      return current == Paid ? advance({Shipped}) : kIgnore;
    case SagaEvent::ShipmentDelivered:
      if (current == Shipped) return advance({Delivered});
      // Delivered proves shipped: if the shipped event is late (retried), do not strand
      // the order in PAID; the late one is then ignored.
      if (current == Paid) return advance({Shipped, Delivered});
      return kIgnore;
  }
  return kIgnore;
}

}  // namespace order

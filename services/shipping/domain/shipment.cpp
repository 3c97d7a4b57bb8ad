#include "domain/shipment.hpp"

#include "sales/text/ascii.hpp"

namespace shipping {

std::string_view to_string(ShipmentStatus s) {
  switch (s) {
    case ShipmentStatus::Pending: return "PENDING";
    case ShipmentStatus::Shipped: return "SHIPPED";
    case ShipmentStatus::Delivered: return "DELIVERED";
    case ShipmentStatus::Cancelled: return "CANCELLED";
  }
  return "UNKNOWN";
}

std::optional<ShipmentStatus> parse_status(std::string_view s) {
  return sales::text::by_name(kAllStatuses, [](ShipmentStatus status) { return to_string(status); }, s);
}

UpdateVerdict decide_update(ShipmentStatus from, ShipmentStatus to, bool order_paid) {
  using enum ShipmentStatus;
  if (from == Pending && to == Shipped) return order_paid ? UpdateVerdict::Apply : UpdateVerdict::NotPaid;
  if (from == Shipped && to == Delivered) return UpdateVerdict::Apply;
  // Where one of the two transitions above leads (those that publish): it has happened.
  if (from == to && event_for(to)) return UpdateVerdict::AlreadyApplied;
  return UpdateVerdict::NotAllowed;
}

std::optional<std::string_view> event_for(ShipmentStatus to) {
  switch (to) {
    case ShipmentStatus::Shipped: return "shipment.shipped";
    case ShipmentStatus::Delivered: return "shipment.delivered";
    default: return std::nullopt;
  }
}

CancelVerdict decide_cancel(ShipmentStatus current) {
  switch (current) {
    case ShipmentStatus::Pending: return CancelVerdict::Cancel;
    case ShipmentStatus::Cancelled: return CancelVerdict::AlreadyCancelled;
    case ShipmentStatus::Shipped:
    case ShipmentStatus::Delivered: return CancelVerdict::TooLate;
  }
  return CancelVerdict::TooLate;
}

InitialState initial_state(std::string_view order_status) {
  // Final orders never ship (a REFUNDED order has given its money back).
  if (order_status == "CANCELLED" || order_status == "REJECTED" || order_status == "REFUNDED") {
    return {ShipmentStatus::Cancelled, false};
  }
  // SHIPPED/DELIVERED cannot happen without a shipment; if they do, the order was paid.
  bool paid = order_status == "PAID" || order_status == "SHIPPED" || order_status == "DELIVERED";
  return {ShipmentStatus::Pending, paid};
}

}  // namespace shipping

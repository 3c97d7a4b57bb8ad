#pragma once
// Shipments' plain types and rules: the status machine, no framework types, testable alone.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shipping {

enum class ShipmentStatus { Pending, Shipped, Delivered, Cancelled };

inline constexpr std::array kAllStatuses = {ShipmentStatus::Pending, ShipmentStatus::Shipped,
                                            ShipmentStatus::Delivered, ShipmentStatus::Cancelled};
inline constexpr std::string_view kStatusNames = "PENDING, SHIPPED, DELIVERED, CANCELLED";

std::string_view to_string(ShipmentStatus s);
// A status by its name in any case ("shipped" is SHIPPED); nullopt for anything else.
std::optional<ShipmentStatus> parse_status(std::string_view s);

struct Shipment {
  std::int64_t id = 0;
  std::int64_t order_id = 0;
  ShipmentStatus status = ShipmentStatus::Pending;
  std::optional<std::string> address;
  bool order_paid = false;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> shipped_at;
  std::optional<std::string> delivered_at;
};

struct HistoryEntry {
  ShipmentStatus status = ShipmentStatus::Pending;
  std::string reason;
  std::string at;
};

// A shipment about to be inserted (if its order has none yet).
struct NewShipment {
  std::int64_t order_id = 0;
  ShipmentStatus status = ShipmentStatus::Pending;
  std::optional<std::string> address;
  bool order_paid = false;
  std::string reason;  // the first history entry's
};

// What a client's PUT {status: to} does to a shipment in `from`.
enum class UpdateVerdict {
  Apply,           // change the status and publish its event
  AlreadyApplied,  // SHIPPED or DELIVERED asked again (a retry after a lost answer): 200, no change
  NotPaid,         // PENDING -> SHIPPED before order.paid: 409
  NotAllowed,      // any other pair, PENDING or CANCELLED asked on itself included: 409
};
UpdateVerdict decide_update(ShipmentStatus from, ShipmentStatus to, bool order_paid);

// The event a client transition into `to` publishes ("shipment.shipped"), if any.
std::optional<std::string_view> event_for(ShipmentStatus to);

// order.rejected / order.cancelled against an existing shipment in `current`.
enum class CancelVerdict {
  Cancel,            // PENDING becomes CANCELLED
  AlreadyCancelled,  // a repeat, or the tombstone: nothing to do
  TooLate,           // SHIPPED/DELIVERED stay; the order service sorts out the refund
};
CancelVerdict decide_cancel(ShipmentStatus current);

// A shipment made by POST /shipping from the order's current status, for when the
// order's events have not reached us yet: the events that follow then change nothing.
struct InitialState {
  ShipmentStatus status = ShipmentStatus::Pending;
  bool order_paid = false;
};
InitialState initial_state(std::string_view order_status);

}  // namespace shipping

#pragma once
// What the shipping service consumes on shipping_queue (docs/saga.md):
//   order.created   -> the order's PENDING shipment, with its shipping_address
//   order.rejected,
//   order.cancelled -> a PENDING shipment is CANCELLED; none yet: a CANCELLED tombstone,
//                      so a late order.created makes nothing; SHIPPED/DELIVERED stay
//   order.paid      -> the shipment may ship (no shipment yet: retried until order.created lands)
//   order.shipped   -> a shipment still PENDING becomes SHIPPED (shipping died between the
//                      order's move and its own), else nothing
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "sales/events/consumer.hpp"

namespace shipping {

// Event data readers: events::PoisonEvent when a member is missing or of the wrong type
// (a contract breach that no retry can mend).
std::int64_t order_id_of(const boost::json::object& data);
std::optional<std::string> optional_string(const boost::json::object& data, const char* name);

sales::events::Dispatcher order_dispatcher();

}  // namespace shipping

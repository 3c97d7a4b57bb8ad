#pragma once
// Reading an event's data in a handler. A field that is missing, of another type or out of
// range makes the event poison: no retry can make it applicable, so it goes to the dead
// letters at once (PoisonEvent, whose text names the event, the field and what was wanted)
// instead of failing every attempt on the database's constraints.
#include <boost/json/object.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "sales/events/envelope.hpp"

namespace sales::events {

inline constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

// `data`: the event's data, or an object inside it (a line of an order).
std::int64_t integer_field(const Envelope& e, const boost::json::object& data, std::string_view name,
                           std::int64_t min, std::int64_t max);
inline std::int64_t integer_field(const Envelope& e, std::string_view name, std::int64_t min, std::int64_t max) {
  return integer_field(e, e.data, name, min, max);
}
// An id: an integer from 1.
inline std::int64_t id_field(const Envelope& e, const boost::json::object& data, std::string_view name) {
  return integer_field(e, data, name, 1, kMaxId);
}
inline std::int64_t id_field(const Envelope& e, std::string_view name) { return id_field(e, e.data, name); }
// Absent or null: none; otherwise as id_field.
std::optional<std::int64_t> optional_id_field(const Envelope& e, std::string_view name);
// Absent or null: none; otherwise a string.
std::optional<std::string> optional_string_field(const Envelope& e, std::string_view name);

}  // namespace sales::events

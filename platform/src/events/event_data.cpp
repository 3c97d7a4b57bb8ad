#include "sales/events/event_data.hpp"

#include "sales/events/consumer.hpp"

namespace sales::events {

namespace {
[[noreturn]] void poison(const Envelope& e, std::string_view name, std::string_view wanted) {
  throw PoisonEvent(e.type + " " + e.id + ": \"" + std::string(name) + "\" must be " + std::string(wanted));
}
}  // namespace

std::int64_t integer_field(const Envelope& e, const boost::json::object& data, std::string_view name,
                           std::int64_t min, std::int64_t max) {
  const auto* v = data.if_contains(name);
  if (v == nullptr || !v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
    if (min == 1 && max == kMaxId) poison(e, name, "a positive integer");
    poison(e, name, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v->as_int64();
}

std::optional<std::int64_t> optional_id_field(const Envelope& e, std::string_view name) {
  const auto* v = e.data.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return id_field(e, name);
}

std::optional<std::string> optional_string_field(const Envelope& e, std::string_view name) {
  const auto* v = e.data.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) poison(e, name, "a string or null");
  return std::string(v->as_string());
}

}  // namespace sales::events

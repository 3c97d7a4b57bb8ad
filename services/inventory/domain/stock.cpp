#include "domain/stock.hpp"

namespace inventory {

std::string_view to_string(MovementKind kind) {
  switch (kind) {
    case MovementKind::Initial: return "initial";
    case MovementKind::Adjust: return "adjust";
    case MovementKind::Take: return "take";
    case MovementKind::Reserve: return "reserve";
    case MovementKind::Release: return "release";
  }
  return "adjust";
}

std::string StockRefusal::describe(std::int64_t product_id) const {
  const std::string product = std::to_string(product_id);
  if (reason == Reason::AboveMaximum) {
    return "Adding " + std::to_string(requested) + " to product " + product + "'s stock of " +
           std::to_string(available) + " would exceed the maximum of " + std::to_string(kMaxStock) + ".";
  }
  return "Not enough stock for product " + product + ": requested " + std::to_string(requested) + ", available " +
         std::to_string(available) + ".";
}

std::optional<StockRefusal> check_change(std::int64_t current, std::int64_t delta) {
  // Compared without forming current + delta, so no sum can overflow (current >= 0, delta > INT64_MIN).
  if (delta < 0 && delta < -current) return StockRefusal{StockRefusal::Reason::Insufficient, -delta, current};
  if (delta > 0 && delta > kMaxStock - current) return StockRefusal{StockRefusal::Reason::AboveMaximum, delta, current};
  return std::nullopt;
}

}  // namespace inventory

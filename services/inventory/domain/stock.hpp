#pragma once
// Stock's plain types and rules: no framework types, testable alone.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sales/events/limits.hpp"

namespace inventory {

inline constexpr std::int64_t kMaxTakeQuantity = 1'000'000;         // PUT /inventory/stock
inline constexpr std::int64_t kMaxAdjustDelta = 1'000'000'000;      // POST .../adjust, either sign
using sales::events::kMaxInitialStock;                               // product.created (the product's own cap)
// Far above any real warehouse and far below int64: sums of stock can never overflow.
inline constexpr std::int64_t kMaxStock = 1'000'000'000'000;

struct StockLevel {
  std::int64_t product_id = 0;
  std::int64_t stock = 0;
  std::int64_t version = 0;
  std::string updated_at;
};

// Why a change of stock is in the ledger; kept as text in stock_movements.kind.
enum class MovementKind { Initial, Adjust, Take, Reserve, Release };
std::string_view to_string(MovementKind kind);

// A change that must not happen: below zero (not enough stock) or above kMaxStock.
struct StockRefusal {
  enum class Reason { Insufficient, AboveMaximum };
  Reason reason = Reason::Insufficient;
  std::int64_t requested = 0;  // the units asked for (removal) or added
  std::int64_t available = 0;  // the stock there was

  [[nodiscard]] std::string describe(std::int64_t product_id) const;
};

// Whether `delta` may be applied to a stock of `current`: nullopt when it may.
std::optional<StockRefusal> check_change(std::int64_t current, std::int64_t delta);

}  // namespace inventory

#pragma once
// The catalogue's plain types and rules: no framework types, testable alone.
#include <cstdint>
#include <optional>
#include <string>

#include "sales/events/limits.hpp"

namespace product {

inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxDescriptionLength = 4000;
using sales::events::kMaxInitialStock;  // POST /products' stock, carried by product.created

struct Product {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> description;
  std::int64_t price_cents = 0;
  std::int64_t stock = 0;
  std::string created_at;
  std::string updated_at;
};

struct NewProduct {
  std::string name;
  std::optional<std::string> description;
  std::int64_t price_cents = 0;
  std::int64_t stock = 0;
};

// A partial update: only the fields given change. `clear_description` sets it to null.
struct ProductPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  bool clear_description = false;
  std::optional<std::int64_t> price_cents;

  [[nodiscard]] bool empty() const { return !name && !description && !clear_description && !price_cents; }
};

}  // namespace product

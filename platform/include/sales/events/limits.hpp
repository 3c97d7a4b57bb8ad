#pragma once
// Limits that two services must agree on because an event carries the value from one to the
// other: what the publisher accepts, the consumer must not find poison.
#include <cstdint>

namespace sales::events {

// product.created's initial stock: POST /products refuses more, inventory's consumer too.
inline constexpr std::int64_t kMaxInitialStock = 1'000'000'000;

}  // namespace sales::events

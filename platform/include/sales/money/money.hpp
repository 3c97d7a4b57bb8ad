#pragma once
// Money is integer cents everywhere inside the system; JSON carries it as a number with at
// most two decimals. Parsing checks the literal's decimals exactly (shortest round-trip).
#include <cstdint>
#include <optional>
#include <string>

namespace sales::money {

inline constexpr std::int64_t kMaxCents = 100'000'000'000;  // 1,000,000,000.00

// nullopt when the value has more than two decimals, is negative, NaN or above the max.
std::optional<std::int64_t> cents_from_double(double v);
std::string format(std::int64_t cents);  // 1999 -> "19.99", 5 -> "0.05", 100 -> "1.00"
// Multiplication that refuses to overflow; nullopt past kMaxCents * 1000.
std::optional<std::int64_t> times(std::int64_t cents, std::int64_t quantity);

}  // namespace sales::money

#include "sales/money/money.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace sales::money {

std::optional<std::int64_t> cents_from_double(double v) {
  if (!std::isfinite(v) || v < 0 || v > static_cast<double>(kMaxCents) / 100.0) return std::nullopt;
  // The shortest text that reads back as v is the literal the client wrote (for any
  // literal of up to 15 significant digits), so its decimals are exactly the client's.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (ec != std::errc{}) return std::nullopt;
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  auto dot = text.find('.');
  if (dot != std::string_view::npos && text.size() - dot - 1 > 2) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(v * 100.0));
}

std::string format(std::int64_t cents) {
  std::string sign = cents < 0 ? "-" : "";
  std::uint64_t abs = cents < 0 ? static_cast<std::uint64_t>(-(cents + 1)) + 1 : static_cast<std::uint64_t>(cents);
  std::string frac = std::to_string(abs % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return sign + std::to_string(abs / 100) + "." + frac;
}

std::optional<std::int64_t> times(std::int64_t cents, std::int64_t quantity) {
  if (cents < 0 || quantity < 0) return std::nullopt;
  if (quantity != 0 && cents > kMaxCents * 1000 / quantity) return std::nullopt;
  return cents * quantity;
}

}  // namespace sales::money

#include "sales/money/money.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

namespace sales::money {

std::optional<std::int64_t> cents_from_double(double v) {
  if (!std::isfinite(v) || v < 0 || v > static_cast<double>(kMaxCents) / 100.0) return std::nullopt;
  if (v == 0) return 0;  // -0.0 too, whose text has a sign
  // The shortest text that reads back as v ("{}": fixed from 1e-4 up to 1e16, with an
  // exponent below) is the literal the client wrote, for any literal of up to 15 significant
  // digits. So its decimals are exactly the client's, and the cents are read from that text:
  // no rounding of v * 100. Neither libm's llround (its library, ~300 kB of every service's
  // RSS, loaded for this one call) nor std::to_chars for doubles (117 kB of libstdc++'s
  // tables, and their code) is needed; fmt is linked anyway.
  char buf[64];
  auto out = fmt::format_to_n(buf, sizeof buf, "{}", v);
  if (out.size > sizeof buf) return std::nullopt;
  std::string_view text(buf, out.size);
  if (text.find_first_not_of("0123456789.") != std::string_view::npos) return std::nullopt;  // 1e-05
  auto dot = text.find('.');
  std::string_view units = text.substr(0, dot);
  std::string_view decimals = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (decimals.size() > 2) return std::nullopt;
  std::int64_t cents = 0;
  for (char digit : units) cents = cents * 10 + (digit - '0');  // at most 10 digits: v <= 1e9
  for (char digit : decimals) cents = cents * 10 + (digit - '0');
  for (std::size_t i = decimals.size(); i < 2; ++i) cents *= 10;
  return cents;
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

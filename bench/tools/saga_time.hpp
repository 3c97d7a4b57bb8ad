#pragma once
// Times the order saga reports: RFC 3339 stamps with microseconds (events' occurred_at, an
// order's history entries), read back as µs since the epoch.
#include <boost/json.hpp>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

namespace bench::saga {

// "2026-11-25T08:31:55.534781Z" → µs since the epoch; -1 if it is not that shape.
inline std::int64_t parse_rfc3339_us(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[10] != 'T') return -1;
  std::tm tm{};
  auto num = [&](std::size_t pos, std::size_t len) { return std::atoi(std::string(s.substr(pos, len)).c_str()); };
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  std::int64_t us = static_cast<std::int64_t>(timegm(&tm)) * 1'000'000;
  if (s.size() > 20 && s[19] == '.') {
    std::size_t p = 20;
    std::int64_t frac = 0;
    int digits = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (digits < 6) {
        frac = frac * 10 + (s[p] - '0');
        ++digits;
      }
      ++p;
    }
    while (digits < 6) {
      frac *= 10;
      ++digits;
    }
    us += frac;
  }
  return us;
}

// The time of the CONFIRMED entry in an order's history, µs since the epoch, or -1.
inline std::int64_t confirmed_at(const boost::json::value& order) {
  if (!order.is_object()) return -1;
  if (auto* h = order.as_object().if_contains("history"); h && h->is_array())
    for (auto& e : h->as_array())
      if (e.is_object() && e.as_object().contains("status") && e.at("status") == "CONFIRMED")
        if (auto* at = e.as_object().if_contains("at"); at && at->is_string()) return parse_rfc3339_us(at->as_string());
  return -1;
}

}  // namespace bench::saga

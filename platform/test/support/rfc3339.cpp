#include "sales_test/rfc3339.hpp"

#include <ctime>
#include <regex>
#include <string>

namespace sales_test {

bool is_rfc3339_utc(std::string_view s) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$)");
  return std::regex_match(s.begin(), s.end(), re) && rfc3339_micros(s).has_value();
}

std::optional<std::int64_t> rfc3339_micros(std::string_view s) {
  static const std::regex re(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(s.begin(), s.end(), m, re)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1].str()) - 1900;
  tm.tm_mon = std::stoi(m[2].str()) - 1;
  tm.tm_mday = std::stoi(m[3].str());
  tm.tm_hour = std::stoi(m[4].str());
  tm.tm_min = std::stoi(m[5].str());
  tm.tm_sec = std::stoi(m[6].str());
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  std::int64_t secs = ::timegm(&tm);
  std::int64_t micros = 0;
  if (m[7].matched) {
    std::string frac = m[7].str();
    frac.resize(6, '0');
    micros = std::stoll(frac);
  }
  return secs * 1'000'000 + micros;
}

}  // namespace sales_test

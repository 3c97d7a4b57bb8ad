#include "sales/http/http_date.hpp"

#include <fmt/format.h>

namespace sales::http {

std::string imf_fixdate(std::time_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string_view date_field_line() {
  // std::time reads the kernel's coarse clock without a system call (vDSO): cheap per answer.
  thread_local std::time_t formatted_for = 0;
  thread_local std::string line;
  const std::time_t now = std::time(nullptr);
  if (line.empty() || now != formatted_for) {
    line = "Date: " + imf_fixdate(now) + "\r\n";
    formatted_for = now;
  }
  return line;
}

}  // namespace sales::http

#include "sales/http/http_date.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace {

namespace http = sales::http;

TEST(HttpDate, ImfFixdateIsTheRfcsFormat) {
  EXPECT_EQ(http::imf_fixdate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7's example
  EXPECT_EQ(http::imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http::imf_fixdate(1709251199), "Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(http::imf_fixdate(1798761600), "Fri, 01 Jan 2027 00:00:00 GMT");
}

TEST(HttpDate, TheFieldLineIsNowAndWhole) {
  const std::time_t before = std::time(nullptr);
  const std::string line(http::date_field_line());
  const std::time_t after = std::time(nullptr);
  EXPECT_TRUE(line == "Date: " + http::imf_fixdate(before) + "\r\n" || line == "Date: " + http::imf_fixdate(after) + "\r\n")
      << line;
}

}  // namespace

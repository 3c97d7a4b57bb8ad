#include "sales/text/ascii.hpp"

#include <gtest/gtest.h>

namespace sales::text {
namespace {

TEST(Ascii, LowersOnlyAsciiLetters) {
  EXPECT_EQ(to_lower("HTTPS://Shop.EXAMPLE:8443"), "https://shop.example:8443");
  EXPECT_EQ(to_lower("\xC3\x84Z"), "\xC3\x84z") << "bytes past ASCII stay as they are";
  EXPECT_EQ(to_lower('@'), '@');
  EXPECT_EQ(to_lower('['), '[');
}

TEST(Ascii, UppersAndClassifiesOnlyAscii) {
  EXPECT_EQ(to_upper("order_Service-1"), "ORDER_SERVICE-1");
  EXPECT_EQ(to_upper("\xC3\xA4"), "\xC3\xA4");
  for (char c : std::string_view("azAZ09")) EXPECT_TRUE(is_alnum(c)) << c;
  for (char c : std::string_view("-_.@[`{ \x80\xff")) EXPECT_FALSE(is_alnum(c)) << static_cast<int>(c);
}

TEST(Ascii, AllDigitsMeansNonEmptyAndZeroToNineOnly) {
  EXPECT_TRUE(all_digits("0"));
  EXPECT_TRUE(all_digits("065535"));
  EXPECT_FALSE(all_digits(""));
  EXPECT_FALSE(all_digits("+1"));
  EXPECT_FALSE(all_digits("1 "));
  EXPECT_FALSE(all_digits("0x1f"));
  EXPECT_FALSE(all_digits("\xD9\xA1")) << "an Arabic-Indic digit is not an ASCII one";
}

TEST(Ascii, IequalsFoldsAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("a[", "A{")) << "'[' and '{' are not a case pair";
  EXPECT_FALSE(iequals("\xC3\xA4", "\xC3\x84"));
  static_assert(iequals("PENDING", "pending"));
}

}  // namespace
}  // namespace sales::text

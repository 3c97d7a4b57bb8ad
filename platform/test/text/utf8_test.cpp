#include "sales/text/utf8.hpp"

#include <gtest/gtest.h>

namespace sales::text {
namespace {

TEST(Utf8, TellsWellFormedText) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("\x80")) << "a stray continuation byte";
  EXPECT_FALSE(valid_utf8("\xC3")) << "a character cut short";
  EXPECT_FALSE(valid_utf8("\xC0\xAF")) << "an overlong '/'";
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80")) << "a surrogate";
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80")) << "past U+10FFFF";
}

TEST(Utf8, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("caf\xC3\xA9"), 4u);
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80!"), 2u);
}

TEST(Utf8, PrefixOfCharactersKeepsWholeCharacters) {
  EXPECT_EQ(utf8_prefix_chars("caf\xC3\xA9s", 4), "caf\xC3\xA9");
  EXPECT_EQ(utf8_prefix_chars("caf\xC3\xA9s", 3), "caf");
  EXPECT_EQ(utf8_prefix_chars("abc", 10), "abc");
  EXPECT_EQ(utf8_prefix_chars("abc", 0), "");
}

TEST(Utf8, PrefixOfBytesNeverSplitsACharacter) {
  const std::string_view euro = "a\xE2\x82\xAC" "b";  // 1 + 3 + 1 bytes
  EXPECT_EQ(utf8_prefix_bytes(euro, 5), euro);
  EXPECT_EQ(utf8_prefix_bytes(euro, 4), "a\xE2\x82\xAC");
  EXPECT_EQ(utf8_prefix_bytes(euro, 3), "a") << "the euro sign does not fit whole";
  EXPECT_EQ(utf8_prefix_bytes(euro, 2), "a");
  EXPECT_EQ(utf8_prefix_bytes(euro, 1), "a");
  EXPECT_EQ(utf8_prefix_bytes(euro, 0), "");
  EXPECT_EQ(utf8_prefix_bytes("\xE2\x82\xAC", 2), "") << "nothing fits";
}

}  // namespace
}  // namespace sales::text

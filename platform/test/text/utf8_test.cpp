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

TEST(Utf8, BlankIsWhiteSpaceOrInvisibleCharactersOnly) {
  for (std::string_view blank : {"", " \t\r\n", "\xC2\xA0" /* U+00A0 no-break space */, "\xE3\x80\x80" /* U+3000 */,
                                 "\xE2\x80\x83" /* U+2003 em space */, "\xE2\x80\x8B" /* U+200B zero width */,
                                 "\xEF\xBB\xBF" /* U+FEFF byte-order mark */, "\xC2\xAD" /* U+00AD soft hyphen */,
                                 "\xE2\x80\x8B\xE2\x80\x8B " /* two U+200B and a space */,
                                 "\xE2\x81\xA0\xE3\x85\xA4" /* U+2060 word joiner, U+3164 Hangul filler */,
                                 "\xF3\xA0\x80\x81" /* U+E0001 language tag */}) {
    EXPECT_TRUE(looks_blank(blank)) << blank;
  }
  for (std::string_view shown : {"a", " a ", "\xC2\xA0x", "\xE2\x80\x8B.", "\xC3\xA9", "\xE2\x80\x90" /* U+2010 hyphen */,
                                 "\xE2\x80\xB0" /* U+2030 per mille, past the 2028-202F run */,
                                 "\xEF\xBC\xBF" /* U+FF3F fullwidth low line */, "\xF0\x9F\x98\x80"}) {
    EXPECT_FALSE(looks_blank(shown)) << shown;
  }
  EXPECT_FALSE(looks_blank("\xC2")) << "not UTF-8: nothing to call blank";
}

TEST(Utf8, ControlsAreC0DelC1AndTheSeparators) {
  for (std::string_view control : {"a\x01", "\x1B[2J", "a\x7F", "x\xC2\x80y" /* U+0080 */, "x\xC2\x9Fy" /* U+009F */,
                                   "a\nb", "a\rb", "a\tb", "a\xE2\x80\xA8" "b" /* U+2028 */,
                                   "a\xE2\x80\xA9" "b" /* U+2029 */}) {
    EXPECT_TRUE(has_control(control)) << control;
  }
  for (std::string_view plain : {"", "plain text", "\xC2\xA0" /* U+00A0: blank, not a control */,
                                 "\xC2\xA1" /* U+00A1, just past C1 */, "\xE2\x80\xA7" /* U+2027 */,
                                 "\xE2\x80\xAA" /* U+202A */, "\xF0\x9F\x98\x80", "a\xFF" /* not UTF-8 */}) {
    EXPECT_FALSE(has_control(plain)) << plain;
  }
}

TEST(Utf8, LayoutAllowedLetsLineBreaksAndTabsThroughButNoOtherControl) {
  for (std::string_view laid_out : {"a\nb", "a\r\nb", "a\tb", "a\xE2\x80\xA8" "b", "a\xE2\x80\xA9" "b"}) {
    EXPECT_FALSE(has_control(laid_out, true)) << laid_out;
  }
  for (std::string_view control : {"a\nb\x1B[2J", "a\x07", "a\x0B" /* vertical tab */, "a\x0C" /* form feed */,
                                   "x\xC2\x85y" /* U+0085, NEL */, "a\x7F"}) {
    EXPECT_TRUE(has_control(control, true)) << control;
  }
}

TEST(Utf8, InvisibleIsWhiteSpaceAnInvisibleCharacterOrAControl) {
  for (std::string_view hidden : {"a b", "a\tb", "ann\xE2\x80\x8B" /* U+200B */, "\xC2\xAD" /* U+00AD */,
                                  "x\xC2\x85y" /* U+0085, C1 */, "x\xC2\x9By" /* U+009B, C1 */, "\x1B[2J",
                                  "\x7F", "\xEF\xBB\xBF" "a" /* U+FEFF */, "a\xF3\xA0\x80\x81" /* U+E0001 */}) {
    EXPECT_TRUE(has_invisible(hidden)) << hidden;
  }
  for (std::string_view shown : {"", "ann@example.org", "j\xC3\xB6rg@b\xC3\xBC" "cher.de" /* jörg@bücher.de */,
                                 "\xC2\xA1" /* U+00A1, just past C1 */, "\xE2\x80\x90" /* U+2010 */,
                                 "\xF0\x9F\x98\x80"}) {
    EXPECT_FALSE(has_invisible(shown)) << shown;
  }
}

}  // namespace
}  // namespace sales::text

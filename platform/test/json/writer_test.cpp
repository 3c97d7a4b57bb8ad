#include "sales/json/writer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>

namespace sales::json {
namespace {

TEST(Writer, AnOptionalIsItsValueOrNull) {
  Writer w;
  w.begin_object()
      .field("a", std::optional<std::string>("x\"y"))
      .field("b", std::optional<std::string>())
      .field("c", std::optional<std::int64_t>(42))
      .field("d", std::optional<std::int64_t>())
      .end_object();
  EXPECT_EQ(w.str(), R"({"a":"x\"y","b":null,"c":42,"d":null})");
}

TEST(AppendEscaped, EscapesQuotesBackslashesAndControlsAndCopiesTheRest) {
  std::string out = "x";
  append_escaped(out, std::string_view("a\"b\\c\nd\re\tf\bg\fh\x01i\x1f\x7f\u00e9\"", 22));
  EXPECT_EQ(out, "x\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001f\x7f\u00e9\\\"\"");
  out.clear();
  append_escaped(out, std::string_view("\0", 1));
  EXPECT_EQ(out, "\"\\u0000\"");
  out.clear();
  append_escaped(out, "");
  EXPECT_EQ(out, "\"\"");
  out.clear();
  append_escaped(out, "plain text, no escapes");
  EXPECT_EQ(out, "\"plain text, no escapes\"");
}

// The escape a character at a time, as the contract's JSON needs it.
std::string escaped_by_byte(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += {'\\', static_cast<char>(c)};
    } else if (c < 0x20) {
      static constexpr std::string_view kShort[] = {"b", "t", "n", "", "f", "r"};  // 0x08..0x0d
      if (c >= 0x08 && c <= 0x0d && !kShort[c - 0x08].empty()) {
        out += "\\" + std::string(kShort[c - 0x08]);
      } else {
        char u[8];
        std::snprintf(u, sizeof u, "\\u%04x", c);
        out += u;
      }
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

TEST(AppendEscaped, MatchesAByteAtATimeEscapeWhereverInAWordTheEscapesFall) {
  for (std::size_t length = 0; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\0'}) {
        std::string text(length, 'a');
        for (std::size_t i = 0; i < length; ++i) text[i] = static_cast<char>('a' + i % 26);
        text[at] = special;
        if (length > at + 9) text[at + 9] = '\x80';  // UTF-8 bytes pass as they are
        std::string out;
        append_escaped(out, text);
        ASSERT_EQ(out, escaped_by_byte(text)) << "length " << length << ", escape at " << at;
      }
    }
  }
}

}  // namespace
}  // namespace sales::json

#include "sales/text/utf8.hpp"

#include <cstdint>

namespace sales::text {
namespace {
constexpr bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The character that starts at s[i]: its length in bytes (0 when what starts there is not
// well-formed UTF-8: a stray continuation byte, a character cut short, an overlong form, a
// surrogate or past U+10FFFF) and, through cp, its code point.
std::size_t decode(std::string_view s, std::size_t i, std::uint32_t& cp) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? c : c & (0xFF >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

struct Range {
  std::uint32_t first, last;
};
// White_Space (PropList.txt) and Default_Ignorable_Code_Point (DerivedCoreProperties.txt),
// Unicode 15, merged and in order.
constexpr Range kBlank[] = {
    {0x0009, 0x000D}, {0x0020, 0x0020}, {0x0085, 0x0085}, {0x00A0, 0x00A0}, {0x00AD, 0x00AD},
    {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160}, {0x1680, 0x1680}, {0x17B4, 0x17B5},
    {0x180B, 0x180F}, {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x206F}, {0x3000, 0x3000},
    {0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8},
    {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
};

bool control_code_point(std::uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

bool layout_code_point(std::uint32_t cp) {
  return cp == '\n' || cp == '\r' || cp == '\t' || cp == 0x2028 || cp == 0x2029;
}

// Whether some character of s is one that pred picks; bytes that are not UTF-8 are skipped
// (whoever reads s judges those).
template <typename Pred>
bool any_code_point(std::string_view s, Pred pred) {
  std::uint32_t cp = 0;
  for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
    len = decode(s, i, cp);
    if (len == 0) len = 1;
    else if (pred(cp)) return true;
  }
  return false;
}

bool blank_code_point(std::uint32_t cp) {
  for (const auto& r : kBlank) {
    if (cp < r.first) return false;
    if (cp <= r.last) return true;
  }
  return false;
}
}  // namespace

bool valid_utf8(std::string_view s) {
  std::uint32_t cp = 0;
  for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
    len = decode(s, i, cp);
    if (len == 0) return false;
  }
  return true;
}

bool looks_blank(std::string_view s) {
  std::uint32_t cp = 0;
  for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
    len = decode(s, i, cp);
    if (len == 0 || !blank_code_point(cp)) return false;
  }
  return true;
}

bool has_control(std::string_view s, bool layout_allowed) {
  return any_code_point(s, [&](std::uint32_t cp) {
    return control_code_point(cp) && !(layout_allowed && layout_code_point(cp));
  });
}

bool has_invisible(std::string_view s) {
  return any_code_point(s, [](std::uint32_t cp) { return control_code_point(cp) || blank_code_point(cp); });
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += !continuation(c);
  return n;
}

std::string_view utf8_prefix_chars(std::string_view s, std::size_t max_chars) {
  std::size_t cut = 0;
  for (std::size_t chars = 0; cut < s.size() && chars < max_chars; ++chars) {
    ++cut;
    while (cut < s.size() && continuation(s[cut])) ++cut;
  }
  return s.substr(0, cut);
}

std::string_view utf8_prefix_bytes(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t cut = max_bytes;
  while (cut > 0 && continuation(s[cut])) --cut;  // s[cut] is the first byte left out
  return s.substr(0, cut);
}

}  // namespace sales::text

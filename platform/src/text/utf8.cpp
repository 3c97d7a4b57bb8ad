#include "sales/text/utf8.hpp"

#include <cstdint>

namespace sales::text {
namespace {
constexpr bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, surrogate
    i += len;
  }
  return true;
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

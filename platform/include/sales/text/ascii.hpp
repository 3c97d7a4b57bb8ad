#pragma once
// ASCII helpers for protocol text (header names, origins, ports, status words, log levels):
// the C locale's rules whatever the process's locale says, and no allocation but to_lower's.
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sales::text {

constexpr char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_digit(c) || to_lower(c) != to_upper(c); }

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}
inline std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_upper(c);
  return out;
}

// Not empty, and 0-9 only (no sign, no spaces).
constexpr bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Equal but for ASCII case. Equal bytes are tested before folding: most names come spelt
// as expected.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// The one of `all` whose name(value) is `text` but for ASCII case, as status words are taken
// in queries and bodies ("refunded" is REFUNDED); nullopt for none.
template <class Values, class NameOf, class Value = std::remove_cvref_t<decltype(*std::begin(std::declval<Values&>()))>>
constexpr std::optional<Value> by_name(const Values& all, NameOf name, std::string_view text) {
  for (const Value& v : all) {
    if (iequals(name(v), text)) return v;
  }
  return std::nullopt;
}

}  // namespace sales::text

#pragma once
// Header fields that hold comma-separated lists (RFC 9110 §5.6.1): Cache-Control,
// X-Forwarded-For, Pragma, Connection. Elements are separated by commas with optional white space around them.
#include <string_view>

namespace sales::http {

// An element without the optional white space (OWS: spaces and tabs) around it.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each non-empty element of the list, left to right, trimmed.
template <class Fn>
void for_each_list_element(std::string_view list, Fn&& fn) {
  for (;;) {
    auto comma = list.find(',');
    if (auto element = trim_ows(list.substr(0, comma)); !element.empty()) fn(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace sales::http

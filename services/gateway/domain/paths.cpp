#include "domain/paths.hpp"

#include <algorithm>

#include "sales/text/ascii.hpp"

namespace gateway {

namespace {
using sales::text::all_digits;

// Calls `on(segment)` for each segment of `path`, empty ones included, without the slashes.
template <class On>
void for_each_segment(std::string_view path, On on) {
  for (std::size_t i = 0; i < path.size();) {
    std::size_t end = std::min(path.find('/', i + 1), path.size());
    on(path.substr(i + 1, end - i - 1));
    i = end;
  }
}
}  // namespace

std::string canonical_path(std::string_view path) {
  std::string out;
  for_each_segment(path, [&](std::string_view segment) {
    if (all_digits(segment)) segment.remove_prefix(std::min(segment.find_first_not_of('0'), segment.size() - 1));
    if (!segment.empty()) out.append("/").append(segment);
  });
  return out.empty() ? "/" : out;
}

bool is_canonical(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  bool canonical = true;
  for_each_segment(path, [&](std::string_view segment) {
    canonical = canonical && !segment.empty() && !(segment.size() > 1 && segment.front() == '0' && all_digits(segment));
  });
  return canonical;
}

}  // namespace gateway

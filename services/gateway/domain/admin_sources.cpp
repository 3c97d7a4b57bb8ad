#include "domain/admin_sources.hpp"

namespace gateway {

bool is_admin_path(std::string_view path) {
  auto start = path.find_first_not_of('/');
  if (start == std::string_view::npos) return false;
  auto first_segment = path.substr(start, path.find('/', start) - start);
  return first_segment == "metrics" || first_segment == "gateway";
}

bool admin_path_refused(std::string_view path, std::string_view peer, const IpRanges& admin_sources) {
  if (admin_sources.empty() || !is_admin_path(path)) return false;
  auto address = parse_ip(peer);
  return !address || !admin_sources.contains(*address);
}

}  // namespace gateway

#include "domain/routes.hpp"

#include "domain/paths.hpp"
#include "sales/resilience/retry.hpp"

namespace gateway {

namespace {
struct Prefix {
  std::string_view segment;
  UpstreamId id;
};
constexpr Prefix kPrefixes[] = {
    {"products", UpstreamId::Product},   {"orders", UpstreamId::Order},         {"customers", UpstreamId::Customer},
    {"payments", UpstreamId::Payment},   {"inventory", UpstreamId::Inventory}, {"shipping", UpstreamId::Shipping},
};
}  // namespace

std::string_view name_of(UpstreamId id) {
  switch (id) {
    case UpstreamId::Product: return "product";
    case UpstreamId::Order: return "order";
    case UpstreamId::Customer: return "customer";
    case UpstreamId::Payment: return "payment";
    case UpstreamId::Inventory: return "inventory";
    case UpstreamId::Shipping: return "shipping";
  }
  return "unknown";
}

std::string_view prefix_of(UpstreamId id) {
  for (const auto& p : kPrefixes) {
    if (p.id == id) return p.segment;
  }
  return "unknown";
}

std::optional<UpstreamId> upstream_for(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  // The first segment ends at '/' or '?'. (find_first_of searches the set of two once per
  // character of the path; this is on every request's way.)
  std::size_t end = 0;
  while (end < path.size() && path[end] != '/' && path[end] != '?') ++end;
  std::string_view segment = path.substr(0, end);
  for (const auto& p : kPrefixes) {
    if (segment == p.segment) return p.id;
  }
  return std::nullopt;
}

bool safe_to_repeat(std::string_view method, std::string_view path, bool has_idempotency_key) {
  // Any spelling the inventory service reads as this route (/inventory//stock/ too).
  if (method == "PUT" && canonical_path(path) == "/inventory/stock") return has_idempotency_key;
  return sales::resilience::retryable_method(method, has_idempotency_key);
}

}  // namespace gateway

#pragma once
// Which upstream serves a path: the first path segment names the resource.
#include <array>
#include <optional>
#include <string_view>

namespace gateway {

enum class UpstreamId { Product, Order, Customer, Payment, Inventory, Shipping };
inline constexpr std::size_t kUpstreamCount = 6;
inline constexpr std::array<UpstreamId, kUpstreamCount> kAllUpstreams = {
    UpstreamId::Product, UpstreamId::Order, UpstreamId::Customer,
    UpstreamId::Payment, UpstreamId::Inventory, UpstreamId::Shipping};

std::string_view name_of(UpstreamId id);  // "product"
std::string_view prefix_of(UpstreamId id);  // "products": the first path segment it serves
// /products, /products/7?x=1 → Product; /productsx or / → nullopt.
std::optional<UpstreamId> upstream_for(std::string_view path);

// Whether a request is safe to send again. HTTP's idempotent methods are, but for one route
// of the contract: the seed's PUT /inventory/stock takes stock out on every call, so it is
// repeated only with an Idempotency-Key (which inventory deduplicates), like a POST.
bool safe_to_repeat(std::string_view method, std::string_view path, bool has_idempotency_key);

}  // namespace gateway

#include "domain/placement.hpp"

#include <algorithm>

#include "sales/text/utf8.hpp"

namespace order {

std::map<std::int64_t, ProductSnapshot> Directory::find_products(const std::vector<std::int64_t>& ids,
                                                                 const CallContext& context) {
  std::map<std::int64_t, ProductSnapshot> found;
  for (auto id : ids) {
    if (auto p = product(id, context)) found.emplace(id, *p);
  }
  return found;
}

Pricing price_order(const NewOrder& o, Directory& directory, const CallContext& context) {
  Pricing out;
  auto customer = directory.customer(o.customer_id, context);
  if (!customer) {
    out.unknown.push_back({"customer_id", "customer " + std::to_string(o.customer_id) + " does not exist"});
  } else if (!customer->address || sales::text::looks_blank(*customer->address)) {
    // Every order gets a shipment, and a parcel with nowhere to go would be paid for and
    // then stuck: the storefront asks for the address first (PUT /customers/{id}). The
    // customer service refuses a blank address, but kept those given before it did.
    out.unusable.push_back({"customer_id", "customer " + std::to_string(o.customer_id) + " has no address to ship to"});
  }
  std::vector<std::int64_t> ids;
  for (const auto& line : o.lines) ids.push_back(line.product_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const auto products = directory.find_products(ids, context);
  PricedOrder priced;
  priced.customer_id = o.customer_id;
  for (std::size_t i = 0; i < o.lines.size(); ++i) {
    const auto& line = o.lines[i];
    auto product = products.find(line.product_id);
    if (product == products.end()) {
      out.unknown.push_back({"items[" + std::to_string(i) + "].product_id",
                             "product " + std::to_string(line.product_id) + " does not exist"});
      continue;
    }
    priced.lines.push_back({line.product_id, line.quantity, product->second.price_cents});
  }
  if (!out.unknown.empty() || !out.unusable.empty()) return out;
  priced.shipping_address = customer->address;
  out.order = std::move(priced);
  return out;
}

}  // namespace order

#include "domain/placement.hpp"

namespace order {

Pricing price_order(const NewOrder& o, Directory& directory, const CallContext& context) {
  Pricing out;
  auto customer = directory.customer(o.customer_id, context);
  if (!customer) {
    out.unknown.push_back({"customer_id", "customer " + std::to_string(o.customer_id) + " does not exist"});
  }
  PricedOrder priced;
  priced.customer_id = o.customer_id;
  for (std::size_t i = 0; i < o.lines.size(); ++i) {
    const auto& line = o.lines[i];
    auto product = directory.product(line.product_id, context);
    if (!product) {
      out.unknown.push_back({"items[" + std::to_string(i) + "].product_id",
                             "product " + std::to_string(line.product_id) + " does not exist"});
      continue;
    }
    priced.lines.push_back({line.product_id, line.quantity, product->price_cents});
  }
  if (!out.unknown.empty()) return out;
  priced.shipping_address = customer->address;
  out.order = std::move(priced);
  return out;
}

}  // namespace order

#include "domain/order.hpp"

#include <unordered_set>

#include "sales/money/money.hpp"
#include "sales/text/ascii.hpp"

namespace order {

std::string_view name(Status s) {
  switch (s) {
    case Status::Pending: return "PENDING";
    case Status::Confirmed: return "CONFIRMED";
    case Status::Paid: return "PAID";
    case Status::Shipped: return "SHIPPED";
    case Status::Delivered: return "DELIVERED";
    case Status::Rejected: return "REJECTED";
    case Status::Cancelled: return "CANCELLED";
    case Status::Refunded: return "REFUNDED";
  }
  return "UNKNOWN";
}

std::optional<Status> parse_status(std::string_view text) {
  return sales::text::by_name(kAllStatuses, [](Status s) { return name(s); }, text);
}

std::string status_names() {
  std::string out;
  for (Status s : kAllStatuses) {
    if (!out.empty()) out += ", ";
    out += name(s);
  }
  return out;
}

bool can_transition(Status from, Status to) {
  using enum Status;
  switch (from) {
    case Pending: return to == Confirmed || to == Rejected || to == Cancelled;
    case Confirmed: return to == Paid || to == Cancelled;
    case Paid: return to == Shipped || to == Cancelled;
    case Shipped: return to == Delivered || to == Refunded;
    case Delivered: return to == Refunded;
    case Rejected:
    case Cancelled:
    case Refunded: return false;
  }
  return false;
}

std::vector<std::size_t> repeated_products(const std::vector<OrderLine>& lines) {
  std::vector<std::size_t> out;
  std::unordered_set<std::int64_t> seen;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!seen.insert(lines[i].product_id).second) out.push_back(i);
  }
  return out;
}

std::optional<std::int64_t> order_total(const std::vector<PricedLine>& lines) {
  std::int64_t total = 0;
  for (const auto& l : lines) {
    auto line = sales::money::times(l.unit_price_cents, l.quantity);
    // Each term is at most kMaxCents, so the running sum never gets near int64's limit.
    if (!line || *line > sales::money::kMaxCents) return std::nullopt;
    total += *line;
    if (total > sales::money::kMaxCents) return std::nullopt;
  }
  return total;
}

}  // namespace order

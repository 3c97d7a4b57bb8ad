#pragma once
// Orders' plain types and rules: the status machine of DESIGN §4, line validation and the
// exact total. No framework types: testable alone.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace order {

inline constexpr std::int64_t kMinQuantity = 1;
inline constexpr std::int64_t kMaxQuantity = 1000;
inline constexpr std::size_t kMaxLines = 100;
inline constexpr std::size_t kMaxReasonLength = 500;

enum class Status { Pending, Confirmed, Paid, Shipped, Delivered, Rejected, Cancelled, Refunded };

inline constexpr std::array kAllStatuses = {Status::Pending,   Status::Confirmed, Status::Paid,
                                            Status::Shipped,   Status::Delivered, Status::Rejected,
                                            Status::Cancelled, Status::Refunded};

std::string_view name(Status s);  // "PENDING"
// Case-insensitive ("paid" and "PAID" both name Status::Paid); nullopt for anything else.
std::optional<Status> parse_status(std::string_view text);
// "PENDING, CONFIRMED, ..." for error messages.
std::string status_names();

// The saga's graph (DESIGN §4): PENDING → CONFIRMED | REJECTED | CANCELLED;
// CONFIRMED → PAID | CANCELLED; PAID → SHIPPED | CANCELLED; SHIPPED → DELIVERED | REFUNDED;
// DELIVERED → REFUNDED. Everything else (including staying put) is forbidden.
bool can_transition(Status from, Status to);
// A client may cancel exactly where the graph allows CANCELLED: PENDING, CONFIRMED, PAID.
inline bool can_cancel(Status s) { return can_transition(s, Status::Cancelled); }

struct OrderLine {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
};

struct PricedLine {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
  std::int64_t unit_price_cents = 0;
};

struct NewOrder {
  std::int64_t customer_id = 0;
  std::vector<OrderLine> lines;
};

// Indices of lines whose product already appeared on an earlier line: one line per
// product, so "how much of product 7" has one answer for inventory and for refunds.
std::vector<std::size_t> repeated_products(const std::vector<OrderLine>& lines);

// Σ unit_price × quantity in cents, exactly; nullopt when a line or the sum would exceed
// money::kMaxCents (the largest amount a payment can carry, so a bigger order could never
// be paid).
std::optional<std::int64_t> order_total(const std::vector<PricedLine>& lines);

struct HistoryEntry {
  Status status = Status::Pending;
  std::string reason;
  std::string at;
};

struct Order {
  std::int64_t id = 0;
  std::int64_t customer_id = 0;
  Status status = Status::Pending;
  std::vector<PricedLine> items;
  std::int64_t total_cents = 0;
  std::optional<std::string> shipping_address;
  std::string created_at;
  std::string updated_at;
  std::vector<HistoryEntry> history;  // filled for single-order reads only
};

}  // namespace order

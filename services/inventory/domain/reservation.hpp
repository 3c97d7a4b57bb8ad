#pragma once
// The reservation of an order's lines (docs/saga.md, inventory rules): all lines or none,
// decided by a pure function over the requested lines and the stock there is.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace inventory {

enum class ReservationStatus { Reserved, Rejected, Released, Cancelled };
std::string_view to_string(ReservationStatus s);
std::optional<ReservationStatus> parse_status(std::string_view s);

struct Line {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
  bool operator==(const Line&) const = default;
};

// One line per product (an order naming a product twice needs the sum), in the order
// each product first appears.
std::vector<Line> merge_lines(const std::vector<Line>& lines);

struct ReservationDecision {
  enum class Outcome { Reserve, Short, UnknownProduct };
  Outcome outcome = Outcome::Reserve;
  Line line;                    // Short / UnknownProduct: the line that decided it
  std::int64_t available = 0;   // Short: the stock there was (0 for an unknown product)
  bool product_deleted = false;  // UnknownProduct: known, but deleted (it never comes back)

  // "insufficient stock for product 7: requested 5, available 2" / "unknown product 7"
  [[nodiscard]] std::string reason() const;
};

// `merged`: from merge_lines. `available`: the stock of every live product the inventory
// knows; `deleted`: the products it knows as deleted. What decides, in this order (each a
// final answer before a possibly temporary one): the first short line (whatever a late
// product.created brings, the order fails), the first deleted product, the first product
// not known at all (perhaps known in a moment); otherwise every line fits: reserve all.
ReservationDecision decide_reservation(const std::vector<Line>& merged,
                                       const std::map<std::int64_t, std::int64_t>& available,
                                       const std::set<std::int64_t>& deleted = {});

// An unknown product may be one whose product.created is still in flight: the event is
// retried until inventory itself has tried this often (with the consumer's delays, 0.2 s
// doubling to 5 s, about 60 s), then the order is rejected. Counted from inventory's first
// try, not from the order's time: after a backlog every order is old, and its product's
// product.created may still be on its way (another replica holds it). A deleted product
// is rejected at once: deletion is final.
inline constexpr int kUnknownProductRetries = 16;
enum class UnknownProductAction { RetryLater, Reject };
UnknownProductAction on_unknown_product(const ReservationDecision& decision, int failed_attempts);

// The transitions. order.created reserves only for an order never seen before (any row,
// the CANCELLED tombstone included, means it was handled).
bool reserves_on_order_created(std::optional<ReservationStatus> existing);

enum class CancelAction { Release, Tombstone, Nothing };
// order.cancelled: RESERVED → RELEASED (stock back); no row → CANCELLED tombstone; else nothing.
CancelAction on_order_cancelled(std::optional<ReservationStatus> existing);

}  // namespace inventory

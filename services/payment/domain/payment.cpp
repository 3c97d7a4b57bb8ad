#include "domain/payment.hpp"

#include "sales/money/money.hpp"
#include "sales/text/ascii.hpp"

namespace payment {

namespace {
struct Transition {
  PaymentStatus from;
  PaymentAction action;
  PaymentStatus to;
};

// Every allowed move; anything not listed is refused.
constexpr std::array kTransitions{
    Transition{PaymentStatus::Pending, PaymentAction::Confirm, PaymentStatus::Confirmed},
    Transition{PaymentStatus::Confirmed, PaymentAction::Refund, PaymentStatus::Refunded},
    Transition{PaymentStatus::Pending, PaymentAction::OrderCancelled, PaymentStatus::Cancelled},
    Transition{PaymentStatus::Confirmed, PaymentAction::OrderCancelled, PaymentStatus::Refunded},
};

std::string_view verb(PaymentAction a) {
  switch (a) {
    case PaymentAction::Confirm: return "confirmed";
    case PaymentAction::Refund: return "refunded";
    case PaymentAction::OrderCancelled: return "undone by an order cancellation";
  }
  return "changed";
}

// "PENDING" or "PENDING or CONFIRMED": the statuses an action applies to.
std::string sources_of(PaymentAction a) {
  std::string out;
  for (const auto& t : kTransitions) {
    if (t.action != a) continue;
    if (!out.empty()) out += " or ";
    out += to_string(t.from);
  }
  return out;
}
}  // namespace

std::string_view to_string(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::Pending: return "PENDING";
    case PaymentStatus::Confirmed: return "CONFIRMED";
    case PaymentStatus::Refunded: return "REFUNDED";
    case PaymentStatus::Cancelled: return "CANCELLED";
  }
  return "UNKNOWN";
}

std::optional<PaymentStatus> parse_status(std::string_view s) {
  return sales::text::by_name(kAllStatuses, [](PaymentStatus p) { return to_string(p); }, s);
}

bool is_live(PaymentStatus s) { return s == PaymentStatus::Pending || s == PaymentStatus::Confirmed; }

std::optional<PaymentStatus> next_status(PaymentStatus current, PaymentAction action) {
  for (const auto& t : kTransitions) {
    if (t.from == current && t.action == action) return t.to;
  }
  return std::nullopt;
}

bool can_transition(PaymentStatus from, PaymentStatus to) {
  for (const auto& t : kTransitions) {
    if (t.from == from && t.to == to) return true;
  }
  return false;
}

std::optional<PaymentStatus> requested_status(PaymentAction action) {
  std::optional<PaymentStatus> out;
  for (const auto& t : kTransitions) {
    if (t.action != action) continue;
    if (out && *out != t.to) return std::nullopt;
    out = t.to;
  }
  return out;
}

Decision decide(const Payment& p, PaymentAction action, bool order_cancelled,
                const std::optional<std::string>& order_refusal) {
  if (requested_status(action) == p.status) return {.verdict = Verdict::AlreadyApplied};
  auto id = std::to_string(p.id);
  if (action == PaymentAction::Confirm && order_cancelled) {
    return {.verdict = Verdict::Refused,
            .refusal = "Order " + std::to_string(p.order_id) + " was cancelled; payment " + id +
                       " can no longer be confirmed (it is " + std::string(to_string(p.status)) + ")."};
  }
  if (action == PaymentAction::Confirm && order_refusal && p.status == PaymentStatus::Pending) {
    return {.verdict = Verdict::Refused, .refusal = *order_refusal};
  }
  if (auto next = next_status(p.status, action)) return {.verdict = Verdict::Apply, .next = *next};
  return {.verdict = Verdict::Refused,
          .refusal = "Payment " + id + " is " + std::string(to_string(p.status)) + "; only a " + sources_of(action) +
                     " payment can be " + std::string(verb(action)) + "."};
}

Payability check_payable(const OrderSnapshot& order, std::int64_t amount_cents) {
  if (order.status != "CONFIRMED") return Payability::OrderNotConfirmed;
  if (order.total_cents != amount_cents) return Payability::AmountMismatch;
  return Payability::Payable;
}

std::optional<std::string> confirm_refusal(const Payment& p, const std::optional<OrderSnapshot>& order) {
  if (order && order->status == "CONFIRMED") return std::nullopt;
  const std::string ids = "Order " + std::to_string(p.order_id);
  const std::string tail = "; payment " + std::to_string(p.id) + " can no longer be confirmed.";
  return order ? ids + " is " + order->status + tail : ids + " does not exist" + tail;
}

}  // namespace payment

#pragma once
// Payments' plain types and rules: no framework types, testable alone.
//
// A payment's life:
//   PENDING   --confirm--------> CONFIRMED --refund----------> REFUNDED
//   PENDING   --order.cancelled-> CANCELLED   (the order went away before the money moved)
//   CONFIRMED --order.cancelled-> REFUNDED    (the money goes back)
// REFUNDED and CANCELLED are final. PENDING and CONFIRMED are "live": an order has at most
// one live payment. A CANCELLED payment's order was cancelled and a refund ends its order
// (DESIGN §4.7), so an order is paid once: a new payment is refused after either.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payment {

enum class PaymentStatus { Pending, Confirmed, Refunded, Cancelled };
inline constexpr std::array kAllStatuses{PaymentStatus::Pending, PaymentStatus::Confirmed, PaymentStatus::Refunded,
                                         PaymentStatus::Cancelled};

std::string_view to_string(PaymentStatus s);  // "PENDING", ...
// A status by its name in any case ("refunded" is REFUNDED); nullopt for anything else.
std::optional<PaymentStatus> parse_status(std::string_view s);
bool is_live(PaymentStatus s);  // PENDING or CONFIRMED

// What can happen to a payment: two HTTP actions and one event.
enum class PaymentAction { Confirm, Refund, OrderCancelled };
inline constexpr std::array kAllActions{PaymentAction::Confirm, PaymentAction::Refund, PaymentAction::OrderCancelled};

// The status machine: where `action` takes a payment in `current`, or nullopt when it does
// not apply there. The one place these rules live.
std::optional<PaymentStatus> next_status(PaymentStatus current, PaymentAction action);
// Whether any action leads from `from` to `to`.
bool can_transition(PaymentStatus from, PaymentStatus to);

struct Payment {
  std::int64_t id = 0;
  std::int64_t order_id = 0;
  std::int64_t amount_cents = 0;
  PaymentStatus status = PaymentStatus::Pending;
  std::string created_at;
  std::string updated_at;
};

struct NewPayment {
  std::int64_t order_id = 0;
  std::int64_t amount_cents = 0;
};

// The status a client's action asks for (CONFIRMED for Confirm, REFUNDED for Refund): the
// one status all of its transitions lead to; nullopt for OrderCancelled, which leads to two.
std::optional<PaymentStatus> requested_status(PaymentAction action);

// What an action does to a payment as the store found it (row locked).
enum class Verdict {
  Apply,           // move to Decision::next and publish its event
  AlreadyApplied,  // the payment is where the action asks (e.g. a retry after a lost answer): no change
  Refused,         // 409, with Decision::refusal as its detail
};
struct Decision {
  Verdict verdict = Verdict::Refused;
  PaymentStatus next = PaymentStatus::Pending;  // with Apply: where the payment moves
  std::string refusal;                          // with Refused: why, for the 409's detail
};
// A repeat of an action whose change has happened (the payment is in its requested status)
// is AlreadyApplied: the caller changes nothing and publishes nothing. `order_cancelled`:
// this service has seen order.cancelled for the payment's order; such a payment can no
// longer be confirmed (the consumer refunds or cancels it). `order_refusal`: the order
// service, asked before a confirm, no longer calls the order CONFIRMED (confirm_refusal);
// it refuses a payment still PENDING, not a repeat that finds it CONFIRMED (a concurrent
// confirm committed, and the order moved on to PAID because of it).
Decision decide(const Payment& p, PaymentAction action, bool order_cancelled,
                const std::optional<std::string>& order_refusal = std::nullopt);

// What the payment service needs to know about an order to take a payment for it.
struct OrderSnapshot {
  std::int64_t id = 0;
  std::string status;  // the order service's status, e.g. "CONFIRMED"
  std::int64_t total_cents = 0;
};

enum class Payability { Payable, OrderNotConfirmed, AmountMismatch };
// An order can be paid only once CONFIRMED (stock reserved) and only for its exact total.
Payability check_payable(const OrderSnapshot& order, std::int64_t amount_cents);

// Why a PENDING payment may not be confirmed, as its order service answered about its order
// (nullopt: the order does not exist), or nullopt when it may: only while the order is still
// CONFIRMED. A cancel the order service has answered is then seen before its order.cancelled
// arrives here, so the client that cancelled is never told that a payment went through.
// Given to decide(), which applies it under the payment's row lock.
std::optional<std::string> confirm_refusal(const Payment& p, const std::optional<OrderSnapshot>& order);

}  // namespace payment

#pragma once
// Payments in PostgreSQL. Changes run inside the caller's transaction, so that an
// Idempotency-Key claim, the state change and its outbox event commit together.
//
// Concurrency: creating a payment and handling order.cancelled take the same per-order
// advisory lock, so a payment cannot slip in beside a cancellation; confirm and refund
// lock the payment row, which the cancellation also locks before deciding; the partial
// unique index keeps one live payment per order whatever else happens.
#include <optional>
#include <stdexcept>
#include <vector>

#include "domain/payment.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "sales/pg/total_cache.hpp"

namespace payment {

struct PaymentPage {
  std::vector<Payment> items;
  std::int64_t total = 0;
};

struct PaymentFilter {
  std::optional<std::int64_t> order_id;
  std::optional<PaymentStatus> status;
};

// The current state refuses the request: a 409 with this message as its detail.
class PaymentConflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PaymentStore {
 public:
  explicit PaymentStore(sales::pg::Pool& pool, sales::pg::TotalCacheConfig totals = {}) : pool_(pool), totals_(totals) {}

  std::optional<Payment> find(std::int64_t id);
  PaymentPage list(const PaymentFilter& filter, const sales::http::Page& page);
  sales::pg::Pool& pool() { return pool_; }

 private:
  sales::pg::Pool& pool_;
  sales::pg::TotalCache totals_;  // list totals: a count(*) over payments matching the filter
};

// A new PENDING payment. PaymentConflict when this service has seen the order cancelled or
// the order already has a live (PENDING or CONFIRMED) payment.
Payment create_payment(sales::pg::Transaction& tx, const NewPayment& p);

// Confirm or refund, with its event in the outbox. A payment already in the status the
// action asks for (a repeat) is returned as it is: nothing written, nothing published.
// nullopt for an unknown id; PaymentConflict (detail from domain::decide) when the status
// does not allow it. `order_refusal`: why the order service's word forbids confirming (see
// decide), asked before the transaction.
std::optional<Payment> apply_action(sales::pg::Transaction& tx, std::int64_t id, PaymentAction action,
                                    const std::optional<std::string>& order_refusal = std::nullopt);

// order.cancelled: records the order as cancelled and undoes its live payment (a CONFIRMED
// one is refunded, with payment.refunded; a PENDING one is cancelled). Running it again
// changes nothing. Returns the payments it changed.
std::vector<Payment> cancel_order_payments(sales::pg::Transaction& tx, std::int64_t order_id,
                                           const std::optional<std::string>& reason,
                                           const std::optional<std::string>& previous_status);

}  // namespace payment

#pragma once
#include <chrono>
// Orders, their lines and their history in orders_db. Writes take the caller's
// transaction, so an order's change, its history row, its outbox event and its
// Idempotency-Key commit together.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/order.hpp"
#include "domain/placement.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "sales/pg/total_cache.hpp"

namespace order {

struct OrderFilter {
  std::optional<std::int64_t> customer_id;
  std::optional<Status> status;
};

struct OrderPage {
  std::vector<Order> items;  // without history
  std::int64_t total = 0;
};

// An order's row, locked (FOR UPDATE) until the transaction ends; or, from peek(), as it
// was a moment ago.
struct LockedOrder {
  std::int64_t id = 0;
  Status status = Status::Pending;
  std::int64_t total_cents = 0;
  std::optional<std::int64_t> paid_by;  // the payment whose payment.confirmed made it PAID
};

class OrderStore {
 public:
  explicit OrderStore(sales::pg::Pool& pool, sales::pg::TotalCacheConfig totals = {}) : pool_(pool), totals_(totals) {}

  // The order PENDING with its lines and its first history row ("order placed").
  Order insert(sales::pg::Transaction& tx, const PricedOrder& o, std::int64_t total_cents);
  std::optional<LockedOrder> lock(sales::pg::Transaction& tx, std::int64_t id);
  // The same columns without a lock or a transaction: to decide what to ask other services
  // before locking (the lock then checks the row is still as seen).
  std::optional<LockedOrder> peek(std::int64_t id);
  // Moves a locked order along the graph and writes the history row, with the next
  // statement or the COMMIT. A move the graph forbids throws std::logic_error here; a
  // status that changed under the lock fails that statement or the COMMIT (pg::Error, NOT
  // NULL of the history row): both are bugs, never input.
  // `o.status` becomes `to`. Moving to PAID records `payment_id` as the payment that paid.
  void move(sales::pg::Transaction& tx, LockedOrder& o, Status to, std::string_view reason,
            std::optional<std::int64_t> payment_id = std::nullopt);

  std::optional<Order> find(std::int64_t id);  // with items and history
  std::optional<Order> find(sales::pg::Transaction& tx, std::int64_t id);
  OrderPage list(const OrderFilter& filter, const sales::http::Page& page);
  std::map<Status, std::int64_t> count_by_status();
  // Ids of PENDING orders due for another order.created, claimed (and touched) in `tx`:
  // untouched for `age` after they were placed, then for as long as they had waited at the
  // last claim (the gaps double), at most `max_gap`.
  std::vector<std::int64_t> claim_stale_pending(sales::pg::Transaction& tx, std::chrono::milliseconds age,
                                                std::chrono::milliseconds max_gap, int limit);
  // Ids in (`after_id`, `up_to_id`] of CONFIRMED orders unchanged for `age` (unpaid that
  // long), oldest first; read without a lock (the caller asks the payment service before it
  // takes one).
  std::vector<std::int64_t> unpaid(std::chrono::milliseconds age, std::int64_t after_id, std::int64_t up_to_id,
                                   int limit);
  // The largest order id committed (0: none).
  std::int64_t newest_id();
  // The unpaid-order round's lease, shared by all replicas: when a round is due (none was
  // taken within the last `until_next`), the lease (its next_at, as text), the next round
  // due `until_next` from now; else nullopt.
  std::optional<std::string> take_unpaid_round(std::chrono::milliseconds until_next);
  // The next round due now, on whichever replica asks first (this one's round failed), unless
  // another replica took a later lease meanwhile.
  void hand_back_unpaid_round(const std::string& lease);
  // The last order an unpaid-order round looked at, on any replica (0: start from the oldest).
  std::int64_t unpaid_round_cursor();
  void set_unpaid_round_cursor(std::int64_t after_id);

 private:
  sales::pg::Pool& pool_;
  sales::pg::TotalCache totals_;  // list totals: a count(*) over orders matching the filter
};

}  // namespace order

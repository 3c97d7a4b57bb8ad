#include "store/payment_store.hpp"

#include "events/payment_events.hpp"
#include "sales/pg/sql.hpp"

namespace payment {

namespace pg = sales::pg;

namespace {
#define PAYMENT_COLUMNS \
  "id, order_id, amount_cents, status, " SALES_PG_RFC3339("created_at") ", " SALES_PG_RFC3339("updated_at")
#define LIVE "status IN ('PENDING', 'CONFIRMED')"  // as the partial unique index says

#define PAYMENT_FILTER "($1::bigint IS NULL OR order_id = $1) AND ($2::text IS NULL OR status = $2)"

constexpr pg::Statement kFind{"payment_find", "SELECT " PAYMENT_COLUMNS " FROM payments WHERE id = $1"};
constexpr pg::Statement kList{"payment_list",
                              SALES_PG_PAGE(PAYMENT_COLUMNS, "payments", "id", PAYMENT_FILTER, "$3", "$4"),
                              pg::Plan::per_call};
constexpr pg::Statement kCount{"payment_count", "SELECT count(*) FROM payments WHERE " PAYMENT_FILTER,
                               pg::Plan::per_call};
// One lock per order, in a key space of its own (two-key form), held until commit.
constexpr pg::Statement kLockOrder{"payment_lock_order", "SELECT pg_advisory_xact_lock(8004, hashint8($1::bigint))"};
constexpr pg::Statement kIsCancelled{"payment_order_cancelled", "SELECT 1 FROM cancelled_orders WHERE order_id = $1"};
// A payment that keeps the order from being paid again: a live one, or a refunded one (a
// refund ends its order, DESIGN §4.7). The live one first, if both.
constexpr pg::Statement kFindBlocking{"payment_find_blocking",
                                      "SELECT " PAYMENT_COLUMNS " FROM payments WHERE order_id = $1 AND "
                                      "status IN ('PENDING', 'CONFIRMED', 'REFUNDED') "
                                      "ORDER BY status = 'REFUNDED', id DESC LIMIT 1"};
constexpr pg::Statement kInsert{"payment_insert",
                                "INSERT INTO payments (order_id, amount_cents, status) VALUES ($1, $2, $3) "
                                "RETURNING " PAYMENT_COLUMNS};
constexpr pg::Statement kLockPayment{
    "payment_lock",
    "SELECT " PAYMENT_COLUMNS ", EXISTS (SELECT 1 FROM cancelled_orders c WHERE c.order_id = payments.order_id) "
    "FROM payments WHERE id = $1 FOR UPDATE OF payments"};
constexpr pg::Statement kLockLive{"payment_lock_live",
                                  "SELECT " PAYMENT_COLUMNS " FROM payments WHERE order_id = $1 AND " LIVE
                                  " ORDER BY id FOR UPDATE"};
// Conditional on the status read under the row lock: a change never overwrites another.
constexpr pg::Statement kSetStatus{"payment_set_status",
                                   "UPDATE payments SET status = $3, updated_at = now() "
                                   "WHERE id = $1 AND status = $2 RETURNING " PAYMENT_COLUMNS};
constexpr pg::Statement kRecordCancelled{"payment_record_cancelled",
                                         "INSERT INTO cancelled_orders (order_id, reason, previous_status) "
                                         "VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING"};
#undef LIVE
#undef PAYMENT_FILTER
#undef PAYMENT_COLUMNS

Payment row(const pg::Result& r, int i) {
  auto status = parse_status(r.text(i, 3));
  // The CHECK constraint allows only known statuses: anything else is a broken database.
  if (!status) throw std::logic_error("payment " + r.str(i, 0) + " has unknown status " + r.str(i, 3));
  return Payment{r.int64(i, 0), r.int64(i, 1), r.int64(i, 2), *status, r.str(i, 4), r.str(i, 5)};
}

pg::Param param(PaymentStatus s) { return pg::param(to_string(s)); }

// Moves a locked payment along the status machine and publishes what the move means.
Payment move(pg::Transaction& tx, const Payment& p, PaymentStatus next) {
  auto r = tx.exec(kSetStatus, {pg::param(p.id), param(p.status), param(next)});
  if (r.empty()) throw std::logic_error("payment " + std::to_string(p.id) + " changed under its row lock");
  auto moved = row(r, 0);
  publish_status_change(tx, moved);
  return moved;
}

std::string blocking_conflict(const Payment& earlier) {
  if (earlier.status == PaymentStatus::Refunded) {
    return "Order " + std::to_string(earlier.order_id) + " cannot be paid again: its payment " +
           std::to_string(earlier.id) + " was refunded, which ends the order (cancelled, or refunded if it had shipped).";
  }
  return "Order " + std::to_string(earlier.order_id) + " already has a live payment: payment " +
         std::to_string(earlier.id) + " is " + std::string(to_string(earlier.status)) + ".";
}
}  // namespace

std::optional<Payment> PaymentStore::find(std::int64_t id) {
  auto r = pg::exec(pool_, kFind, {pg::param(id)});
  if (r.empty()) return std::nullopt;
  return row(r, 0);
}

PaymentPage PaymentStore::list(const PaymentFilter& f, const sales::http::Page& page) {
  PaymentPage out;
  pg::Param status = f.status ? param(*f.status) : std::nullopt;
  auto lease = pool_.acquire();
  auto r = lease->exec(kList, {pg::param(f.order_id), status, pg::param(page.limit), pg::param(page.offset)});
  for (int i = 0; i < r.rows(); ++i) out.items.push_back(row(r, i));
  out.total = totals_.total(pg::id_status_key(f.order_id, status),
                            {page.offset, page.limit, out.items.size(), page.fresh_total}, [&] {
                              return lease->exec(kCount, {pg::param(f.order_id), status}).int64(0, 0);
                            });
  return out;
}

Payment create_payment(pg::Transaction& tx, const NewPayment& p) {
  tx.exec(kLockOrder, {pg::param(p.order_id)});
  if (!tx.exec(kIsCancelled, {pg::param(p.order_id)}).empty()) {
    throw PaymentConflict("Order " + std::to_string(p.order_id) + " was cancelled; it cannot be paid.");
  }
  // The order service's CONFIRMED may be stale: it may not have applied this service's own
  // payment.confirmed and payment.refunded yet, so a refund is checked here, under the lock.
  if (auto earlier = tx.exec(kFindBlocking, {pg::param(p.order_id)}); !earlier.empty()) {
    throw PaymentConflict(blocking_conflict(row(earlier, 0)));
  }
  try {
    return row(tx.exec(kInsert, {pg::param(p.order_id), pg::param(p.amount_cents), param(PaymentStatus::Pending)}), 0);
  } catch (const pg::Error& e) {
    // Unreachable while every writer takes the order lock; the index still has the last word.
    if (e.unique_violation()) {
      throw PaymentConflict("Order " + std::to_string(p.order_id) + " already has a live payment.");
    }
    throw;
  }
}

std::optional<Payment> apply_action(pg::Transaction& tx, std::int64_t id, PaymentAction action,
                                    const std::optional<std::string>& order_refusal) {
  auto r = tx.exec(kLockPayment, {pg::param(id)});
  if (r.empty()) return std::nullopt;
  auto current = row(r, 0);
  auto decision = decide(current, action, r.text(0, 6) == "t", order_refusal);
  switch (decision.verdict) {
    // Decided under the row lock: of concurrent repeats one moves, the others find it done.
    case Verdict::AlreadyApplied: return current;
    case Verdict::Refused: throw PaymentConflict(decision.refusal);
    case Verdict::Apply: break;
  }
  return move(tx, current, decision.next);
}

std::vector<Payment> cancel_order_payments(pg::Transaction& tx, std::int64_t order_id,
                                           const std::optional<std::string>& reason,
                                           const std::optional<std::string>& previous_status) {
  tx.exec(kLockOrder, {pg::param(order_id)});
  tx.exec(kRecordCancelled, {pg::param(order_id), pg::param(reason), pg::param(previous_status)});
  std::vector<Payment> changed;
  auto live = tx.exec(kLockLive, {pg::param(order_id)});
  for (int i = 0; i < live.rows(); ++i) {
    auto p = row(live, i);
    auto decision = decide(p, PaymentAction::OrderCancelled, true);
    if (decision.verdict == Verdict::Apply) changed.push_back(move(tx, p, decision.next));
  }
  return changed;
}

}  // namespace payment

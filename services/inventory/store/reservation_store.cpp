#include "store/reservation_store.hpp"

#include "events/published.hpp"
#include "sales/log/log.hpp"
#include "sales/pg/sql.hpp"
#include "store/stock_store.hpp"

namespace inventory {

namespace pg = sales::pg;

namespace {
// Serialises everything done for one order (order.created against order.cancelled on two
// replicas): without it both could see no reservation row, and one would fail on the key.
// The two-key form has its own key space; hashint8 maps any order id into it (a collision
// only makes two orders wait for each other).
constexpr pg::Statement kLockOrder{"reservation_lock_order",
                                   "SELECT pg_advisory_xact_lock(5005, hashint8($1::bigint))"};
constexpr pg::Statement kStatus{"reservation_status", "SELECT status FROM reservations WHERE order_id = $1"};
// The order's reservation status and its lines' stock rows, locked in product id order (as
// lock_stock does), in one round trip. Sent after the order's advisory lock, so the status
// cannot change before COMMIT; a repeat locks the rows for nothing, which is rare and harmless.
// The one-row left side keeps the status when no stock row matches.
constexpr pg::Statement kStatusAndLock{
    "reservation_status_and_lock",
    "SELECT (SELECT status FROM reservations WHERE order_id = $1), s.product_id, s.stock, s.deleted "
    "FROM (VALUES (1)) AS one (x) LEFT JOIN LATERAL ("
    "  SELECT product_id, stock, deleted FROM stock WHERE product_id = ANY($2::bigint[]) "
    "  ORDER BY product_id FOR UPDATE) AS s ON true "
    "ORDER BY s.product_id"};
constexpr pg::Statement kReason{"reservation_reason", "SELECT coalesce(reason, '') FROM reservations WHERE order_id = $1"};
constexpr pg::Statement kInsert{"reservation_insert",
                                "INSERT INTO reservations (order_id, status, reason) VALUES ($1, $2, $3)"};
// A RESERVED reservation and what it holds, in one statement.
constexpr pg::Statement kInsertReserved{
    "reservation_insert_reserved",
    "WITH r AS (INSERT INTO reservations (order_id, status) VALUES ($1, 'RESERVED') RETURNING order_id) "
    "INSERT INTO reservation_items (order_id, product_id, quantity) "
    "SELECT r.order_id, i.product_id, i.quantity FROM r, unnest($2::bigint[], $3::bigint[]) AS i (product_id, quantity)"};
constexpr pg::Statement kRelease{"reservation_release",
                                 "UPDATE reservations SET status = 'RELEASED', updated_at = now() "
                                 "WHERE order_id = $1 AND status = 'RESERVED'"};
constexpr pg::Statement kItems{"reservation_items",
                               "SELECT product_id, quantity FROM reservation_items WHERE order_id = $1 "
                               "ORDER BY product_id"};
constexpr pg::Statement kFind{"reservation_find",
                              "SELECT order_id, status, reason, " SALES_PG_RFC3339("created_at") ", " SALES_PG_RFC3339(
                                  "updated_at") " FROM reservations WHERE order_id = $1"};

ReservationStatus status_of(std::string_view text) {
  auto status = parse_status(text);
  if (!status) throw std::logic_error("reservation status '" + std::string(text) + "' is not one of ours");
  return *status;
}

// Queued: the order's advisory lock goes with the next statement, before it.
void lock_order(pg::Transaction& tx, std::int64_t order_id) { tx.exec_later(kLockOrder, {pg::param(order_id)}); }

std::optional<ReservationStatus> current_status(pg::Transaction& tx, std::int64_t order_id) {
  lock_order(tx, order_id);
  auto r = tx.exec(kStatus, {pg::param(order_id)});
  if (r.empty()) return std::nullopt;
  return status_of(r.text(0, 0));
}

struct StatusAndStock {
  std::optional<ReservationStatus> status;
  std::map<std::int64_t, LockedStock> stock;
};

// current_status and lock_stock of `lines` in one round trip.
StatusAndStock status_and_locked_stock(pg::Transaction& tx, std::int64_t order_id, const std::vector<Line>& lines) {
  lock_order(tx, order_id);
  auto r = tx.exec(kStatusAndLock, {pg::param(order_id), pg::param(line_arrays(lines).product_ids)});
  StatusAndStock out{std::nullopt, locked_stock_rows(r, 1)};
  if (!r.is_null(0, 0)) out.status = status_of(r.text(0, 0));
  return out;
}

void insert_reservation(pg::Transaction& tx, std::int64_t order_id, ReservationStatus status,
                        const std::optional<std::string>& reason) {
  tx.exec_later(kInsert, {pg::param(order_id), pg::param(to_string(status)), pg::param(reason)});
}

std::vector<Line> read_items(pg::Transaction& tx, std::int64_t order_id) {
  auto r = tx.exec(kItems, {pg::param(order_id)});
  std::vector<Line> items;
  for (int i = 0; i < r.rows(); ++i) items.push_back({r.int64(i, 0), r.int64(i, 1)});
  return items;
}

std::vector<Line> negated(std::vector<Line> lines) {
  for (auto& l : lines) l.quantity = -l.quantity;
  return lines;
}

void insert_reserved(pg::Transaction& tx, std::int64_t order_id, const std::vector<Line>& lines) {
  auto arrays = line_arrays(lines);
  tx.exec_later(kInsertReserved, {pg::param(order_id), pg::param(arrays.product_ids), pg::param(arrays.quantities)});
}

ReserveOutcome reject(pg::Transaction& tx, std::int64_t order_id, const ReservationDecision& decision) {
  insert_reservation(tx, order_id, ReservationStatus::Rejected, decision.reason());
  publish_rejected(tx, order_id, decision);
  return ReserveOutcome::Rejected;
}
}  // namespace

ReserveOutcome reserve(pg::Transaction& tx, const OrderLines& order) {
  auto merged = merge_lines(order.lines);
  auto [status, locked] = status_and_locked_stock(tx, order.order_id, merged);
  if (!reserves_on_order_created(status)) {
    // A repeat (the order service re-sends order.created for an order still PENDING): the
    // same answer again, so a lost answer cannot leave the order PENDING. Reserves nothing.
    if (status == ReservationStatus::Reserved) publish_reserved(tx, order.order_id, read_items(tx, order.order_id));
    if (status == ReservationStatus::Rejected) {
      publish_rejected_again(tx, order.order_id, tx.exec(kReason, {pg::param(order.order_id)}).str(0, 0));
    }
    return ReserveOutcome::AlreadyHandled;
  }

  std::map<std::int64_t, std::int64_t> available;
  std::set<std::int64_t> deleted;
  for (const auto& [id, row] : locked) {
    if (row.deleted) deleted.insert(id);
    else available[id] = row.stock;
  }

  auto decision = decide_reservation(merged, available, deleted);
  switch (decision.outcome) {
    case ReservationDecision::Outcome::Reserve: break;
    case ReservationDecision::Outcome::Short: return reject(tx, order.order_id, decision);
    case ReservationDecision::Outcome::UnknownProduct: {
      if (on_unknown_product(decision, order.failed_attempts) == UnknownProductAction::Reject) {
        return reject(tx, order.order_id, decision);
      }
      throw ProductNotYetKnown("order " + std::to_string(order.order_id) + ": " + decision.reason() +
                               " yet; waiting for its product.created");
    }
  }

  insert_reserved(tx, order.order_id, merged);
  apply_changes_later(tx, negated(merged), MovementKind::Reserve, order.order_id, order_correlation(order.order_id));
  publish_reserved(tx, order.order_id, merged);
  return ReserveOutcome::Reserved;
}

CancelAction cancel(pg::Transaction& tx, std::int64_t order_id) {
  auto action = on_order_cancelled(current_status(tx, order_id));
  switch (action) {
    case CancelAction::Nothing: break;
    case CancelAction::Tombstone:
      insert_reservation(tx, order_id, ReservationStatus::Cancelled, "cancelled before the reservation");
      break;
    case CancelAction::Release: {
      auto items = read_items(tx, order_id);
      lock_stock(tx, items);  // the same lock order as reservations take
      apply_changes_later(tx, items, MovementKind::Release, order_id, order_correlation(order_id));
      tx.exec_later(kRelease, {pg::param(order_id)});
      break;
    }
  }
  return action;
}

std::optional<Reservation> ReservationStore::find(std::int64_t order_id) {
  pg::Transaction tx(pool_, pg::Isolation::RepeatableRead);  // the row and its items from one snapshot
  auto r = tx.exec(kFind, {pg::param(order_id)});
  if (r.empty()) return std::nullopt;
  Reservation out{r.int64(0, 0), status_of(r.text(0, 1)), r.opt_str(0, 2),
                  read_items(tx, order_id), r.str(0, 3), r.str(0, 4)};
  tx.commit();
  return out;
}

}  // namespace inventory

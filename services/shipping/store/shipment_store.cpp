#include "store/shipment_store.hpp"

#include <stdexcept>

#include "events/shipment_events.hpp"
#include "sales/pg/sql.hpp"

namespace shipping {

namespace pg = sales::pg;

namespace {
#define SHIPMENT_COLUMNS                                                                              \
  "id, order_id, status, address, order_paid, " SALES_PG_RFC3339("created_at") ", "                    \
      SALES_PG_RFC3339("updated_at") ", " SALES_PG_RFC3339("shipped_at") ", " SALES_PG_RFC3339("delivered_at")

#define SHIPMENT_FILTER "($1::bigint IS NULL OR order_id = $1) AND ($2::text IS NULL OR status = $2)"

constexpr pg::Statement kFind{"shipment_find", "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE id = $1"};
constexpr pg::Statement kFindByOrder{"shipment_find_by_order",
                                     "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE order_id = $1"};
constexpr pg::Statement kLock{"shipment_lock", "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE id = $1 FOR UPDATE"};
constexpr pg::Statement kLockByOrder{"shipment_lock_by_order",
                                     "SELECT id, status FROM shipments WHERE order_id = $1 FOR UPDATE"};
constexpr pg::Statement kList{"shipment_list",
                              SALES_PG_PAGE(SHIPMENT_COLUMNS, "shipments", "id", SHIPMENT_FILTER, "$3", "$4"),
                              pg::Plan::per_call};
constexpr pg::Statement kCount{"shipment_count", "SELECT count(*) FROM shipments WHERE " SHIPMENT_FILTER,
                               pg::Plan::per_call};
constexpr pg::Statement kHistory{"shipment_history",
                                 "SELECT status, reason, " SALES_PG_RFC3339("at") " FROM shipment_history "
                                 "WHERE shipment_id = $1 ORDER BY id"};
// One statement inserts the shipment and its first history row, or nothing at all when
// the order has a shipment: ON CONFLICT waits for a concurrent insert and then yields.
constexpr pg::Statement kInsert{
    "shipment_insert",
    "WITH s AS (INSERT INTO shipments (order_id, status, address, order_paid) VALUES ($1, $2, $3, $4::boolean) "
    "           ON CONFLICT (order_id) DO NOTHING RETURNING *), "
    "h AS (INSERT INTO shipment_history (shipment_id, status, reason) SELECT id, status, $5 FROM s) "
    "SELECT " SHIPMENT_COLUMNS " FROM s"};
// The same insert for the consumer, which reads nothing back: it travels with the next
// statement or the COMMIT (exec_later).
constexpr pg::Statement kInsertQueued{
    "shipment_insert_queued",
    "WITH s AS (INSERT INTO shipments (order_id, status, address, order_paid) VALUES ($1, $2, $3, $4::boolean) "
    "           ON CONFLICT (order_id) DO NOTHING RETURNING id, status) "
    "INSERT INTO shipment_history (shipment_id, status, reason) SELECT id, status, $5 FROM s"};
// Conditional on the status the decision was made in, and on payment for SHIPPED, so it
// can never apply a transition the domain did not allow, lock or no lock.
constexpr pg::Statement kTransition{
    "shipment_transition",
    "WITH s AS (UPDATE shipments SET status = $3::text, updated_at = now(), "
    "             shipped_at = CASE WHEN $3::text = 'SHIPPED' THEN now() ELSE shipped_at END, "
    "             delivered_at = CASE WHEN $3::text = 'DELIVERED' THEN now() ELSE delivered_at END "
    "           WHERE id = $1 AND status = $2::text AND ($3::text <> 'SHIPPED' OR order_paid) RETURNING *), "
    "h AS (INSERT INTO shipment_history (shipment_id, status, reason) SELECT id, status, $4 FROM s) "
    "SELECT " SHIPMENT_COLUMNS " FROM s"};
constexpr pg::Statement kCancel{
    "shipment_cancel",
    "WITH s AS (UPDATE shipments SET status = 'CANCELLED', updated_at = now() "
    "           WHERE id = $1 AND status = 'PENDING' RETURNING id, status), "
    "h AS (INSERT INTO shipment_history (shipment_id, status, reason) SELECT id, status, $2 FROM s) "
    "SELECT id FROM s"};
// updated_at moves only when the flag does, so a redelivered order.paid changes nothing.
constexpr pg::Statement kMarkPaid{"shipment_mark_paid",
                                  "UPDATE shipments SET order_paid = true, "
                                  "updated_at = CASE WHEN order_paid THEN updated_at ELSE now() END "
                                  "WHERE order_id = $1 RETURNING id"};
#undef SHIPMENT_FILTER
#undef SHIPMENT_COLUMNS

ShipmentStatus status_at(const pg::Result& r, int row, int col) {
  auto s = parse_status(r.text(row, col));
  if (!s) throw std::runtime_error("shipments.status holds an unknown value: " + r.str(row, col));
  return *s;
}

Shipment row(const pg::Result& r, int i) {
  return Shipment{r.int64(i, 0), r.int64(i, 1), status_at(r, i, 2), r.opt_str(i, 3), r.text(i, 4) == "t",
                  r.str(i, 5),   r.str(i, 6),   r.opt_str(i, 7),    r.opt_str(i, 8)};
}

std::vector<pg::Param> insert_params(const NewShipment& s) {
  return {pg::param(s.order_id), pg::param(to_string(s.status)), pg::param(s.address),
          pg::param(s.order_paid ? "true" : "false"), pg::param(s.reason)};
}

pg::Param status_param(const std::optional<ShipmentStatus>& s) { return s ? pg::param(to_string(*s)) : pg::Param{}; }

// Moves a shipment locked by this transaction, with its history row and its event.
Shipment move_locked(pg::Transaction& tx, std::int64_t id, ShipmentStatus from, ShipmentStatus to, const std::string& reason) {
  auto r = tx.exec(kTransition, {pg::param(id), pg::param(to_string(from)), pg::param(to_string(to)), pg::param(reason)});
  if (r.empty()) throw std::logic_error("shipment " + std::to_string(id) + " changed under its row lock");
  auto moved = row(r, 0);
  publish_transition(tx, moved);
  return moved;
}
}  // namespace

std::optional<Shipment> ShipmentStore::find(std::int64_t id) {
  auto r = pg::exec(pool_, kFind, {pg::param(id)});
  if (r.empty()) return std::nullopt;
  return row(r, 0);
}

std::optional<Shipment> ShipmentStore::find_by_order(std::int64_t order_id) {
  auto r = pg::exec(pool_, kFindByOrder, {pg::param(order_id)});
  if (r.empty()) return std::nullopt;
  return row(r, 0);
}

std::vector<HistoryEntry> ShipmentStore::history(std::int64_t shipment_id) {
  auto r = pg::exec(pool_, kHistory, {pg::param(shipment_id)});
  std::vector<HistoryEntry> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({status_at(r, i, 0), r.str(i, 1), r.str(i, 2)});
  return out;
}

ShipmentPage ShipmentStore::list(const ShipmentFilter& f, const sales::http::Page& page) {
  ShipmentPage out;
  auto lease = pool_.acquire();
  auto status = status_param(f.status);
  auto r = lease->exec(kList, {pg::param(f.order_id), status, pg::param(page.limit), pg::param(page.offset)});
  for (int i = 0; i < r.rows(); ++i) out.items.push_back(row(r, i));
  out.total = totals_.total(pg::id_status_key(f.order_id, status),
                            {page.offset, page.limit, out.items.size(), page.fresh_total}, [&] {
                              return lease->exec(kCount, {pg::param(f.order_id), status}).int64(0, 0);
                            });
  return out;
}

OrderShipment ShipmentStore::create_for_order(const NewShipment& s) {
  auto r = pg::exec(pool_, kInsert, insert_params(s));
  if (!r.empty()) return {row(r, 0), true};
  // Someone else's insert won (a consumer or a concurrent POST): theirs is the one.
  auto existing = find_by_order(s.order_id);
  if (!existing) throw std::runtime_error("shipment for order " + std::to_string(s.order_id) + " vanished");
  return {*existing, false};
}

std::optional<UpdateResult> ShipmentStore::update_status(std::int64_t id, ShipmentStatus to,
                                                        const std::function<void(const Shipment&)>& before_apply) {
  pg::Transaction tx(pool_);
  auto current = tx.exec(kLock, {pg::param(id)});
  if (current.empty()) return std::nullopt;
  UpdateResult result{UpdateVerdict::NotAllowed, ShipmentStatus::Pending, row(current, 0)};
  result.from = result.shipment.status;
  result.verdict = decide_update(result.from, to, result.shipment.order_paid);
  // Not paid as far as shipping has heard: the order (the saga's authority) decides.
  const bool payment_unheard = result.verdict == UpdateVerdict::NotPaid && before_apply;
  // Refused, or already applied (decided under the lock, so of concurrent repeats one
  // applies and the others find it done): rolls back, nothing changed.
  if (result.verdict != UpdateVerdict::Apply && !payment_unheard) return result;
  if (before_apply) before_apply(result.shipment);
  if (payment_unheard) {
    tx.exec_later(kMarkPaid, {pg::param(result.shipment.order_id)});
    result.verdict = UpdateVerdict::Apply;
  }

  result.shipment = move_locked(tx, id, result.from, to, "PUT /shipping/" + std::to_string(id));
  tx.commit();
  return result;
}

void insert_if_absent_later(pg::Transaction& tx, const NewShipment& s) {
  tx.exec_later(kInsertQueued, insert_params(s));
}

CancelResult cancel_for_order(pg::Transaction& tx, std::int64_t order_id, const std::string& reason) {
  NewShipment tombstone{order_id, ShipmentStatus::Cancelled, std::nullopt, false, reason + " (before order.created)"};
  auto inserted = tx.exec(kInsert, insert_params(tombstone));
  if (!inserted.empty()) return {CancelEffect::Tombstone, inserted.int64(0, 0), ShipmentStatus::Cancelled};

  auto locked = tx.exec(kLockByOrder, {pg::param(order_id)});
  if (locked.empty()) throw std::logic_error("shipment of order " + std::to_string(order_id) + " vanished");
  CancelResult result{CancelEffect::AlreadyCancelled, locked.int64(0, 0), status_at(locked, 0, 1)};
  switch (decide_cancel(result.status)) {
    case CancelVerdict::Cancel:
      if (tx.exec(kCancel, {pg::param(result.shipment_id), pg::param(reason)}).empty()) {
        throw std::logic_error("shipment " + std::to_string(result.shipment_id) + " changed under its row lock");
      }
      return {CancelEffect::Cancelled, result.shipment_id, ShipmentStatus::Cancelled};
    case CancelVerdict::AlreadyCancelled: return result;
    case CancelVerdict::TooLate: result.effect = CancelEffect::TooLate; return result;
  }
  return result;
}

bool mark_paid(pg::Transaction& tx, std::int64_t order_id) {
  return !tx.exec(kMarkPaid, {pg::param(order_id)}).empty();
}

bool ship_for_order(pg::Transaction& tx, std::int64_t order_id, const std::string& reason) {
  auto locked = tx.exec(kLockByOrder, {pg::param(order_id)});
  if (locked.empty()) return false;
  auto id = locked.int64(0, 0);
  if (status_at(locked, 0, 1) != ShipmentStatus::Pending) return true;
  // A SHIPPED order was paid, whether or not order.paid has arrived here yet.
  tx.exec_later(kMarkPaid, {pg::param(order_id)});
  move_locked(tx, id, ShipmentStatus::Pending, ShipmentStatus::Shipped, reason);
  return true;
}

}  // namespace shipping

#include "store/order_store.hpp"

#include <stdexcept>

#include "sales/pg/sql.hpp"
#include "sales/service/kept_counts.hpp"

namespace order {

namespace pg = sales::pg;

namespace {
#define ORDER_COLUMNS                                                                          \
  "id, customer_id, status, total_cents, shipping_address, " SALES_PG_RFC3339("created_at") ", " \
      SALES_PG_RFC3339("updated_at")
#define ORDER_FILTER "($1::bigint IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)"

// The order, all its lines and its first history row in one round trip; the lines and the
// history row take the order's id from its RETURNING (no foreign key: migration 0002).
constexpr pg::Statement kInsertOrder{
    "order_insert",
    "WITH o AS (INSERT INTO orders (customer_id, status, total_cents, shipping_address) "
    "VALUES ($1, 'PENDING', $2, $3) RETURNING *), "
    "items AS (INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents) "
    "SELECT o.id, t.ord - 1, t.product_id, t.quantity, t.unit_price FROM o, "
    "unnest($4::bigint[], $5::integer[], $6::bigint[]) WITH ORDINALITY AS t(product_id, quantity, unit_price, ord)), "
    "history AS (INSERT INTO order_history (order_id, status, reason, at) SELECT o.id, o.status, $7, o.created_at FROM o) "
    "SELECT " ORDER_COLUMNS " FROM o"};
#define ORDER_STATE "SELECT status, total_cents, paid_by FROM orders WHERE id = $1"
constexpr pg::Statement kLock{"order_lock", ORDER_STATE " FOR UPDATE"};
constexpr pg::Statement kPeek{"order_peek", ORDER_STATE};
#undef ORDER_STATE
// Conditional on the status read under the lock: a lost update cannot happen silently. The
// history row goes in with it. No row moved (impossible under the row lock, so a bug) makes
// the history row's order_id NULL, which its NOT NULL refuses: the statement fails loudly
// without the caller reading its result, so it can travel with the next statement or the
// COMMIT (exec_later: one round trip less per transition). The order's updated_at and its
// history row carry one time, read from the clock (two moves in one transaction, shipped
// then delivered, keep distinct times), as the placement's first row has its created_at.
constexpr pg::Statement kMove{
    "order_move",
    // $5: the payment that paid, given only with the move to PAID (NULL keeps paid_by).
    "WITH moved AS (UPDATE orders SET status = $3, paid_by = COALESCE($5, paid_by), updated_at = clock_timestamp() "
    "WHERE id = $1 AND status = $2 RETURNING id, updated_at) "
    "INSERT INTO order_history (order_id, status, reason, at) "
    "SELECT (SELECT id FROM moved), $3, $4, (SELECT updated_at FROM moved)"};
constexpr pg::Statement kFind{"order_find", "SELECT " ORDER_COLUMNS " FROM orders WHERE id = $1"};
constexpr pg::Statement kItemsOf{"order_items_of",
                                 "SELECT order_id, product_id, quantity, unit_price_cents FROM order_items "
                                 "WHERE order_id = ANY($1::bigint[]) ORDER BY order_id, line_no"};
constexpr pg::Statement kHistoryOf{"order_history_of",
                                   "SELECT status, reason, " SALES_PG_RFC3339("at") " FROM order_history "
                                   "WHERE order_id = $1 ORDER BY id"};
constexpr pg::Statement kList{"order_list", SALES_PG_PAGE(ORDER_COLUMNS, "orders", "id", ORDER_FILTER, "$3", "$4"),
                              pg::Plan::per_call};
constexpr pg::Statement kCount{"order_count", "SELECT count(*) FROM orders WHERE " ORDER_FILTER, pg::Plan::per_call};
// Kept by triggers (migration 0004): costs the same however many orders there are.
constexpr pg::Statement kCountByStatus{
    "order_count_by_status",
    "SELECT key, sum(n)::bigint FROM kept_counts WHERE tbl = 'orders' GROUP BY key HAVING sum(n) <> 0"};
// PENDING orders due for re-sending, claimed (SKIP LOCKED: replicas share the work). A
// PENDING order changes only here, so updated_at - created_at is how long it had waited at
// its last re-send: it is due when it has waited as long again (at least $1 ms, at most
// $3 ms), and the gaps double.
constexpr pg::Statement kStalePending{
    "order_stale_pending",
    "UPDATE orders SET updated_at = now() WHERE id IN (SELECT id FROM orders WHERE status = 'PENDING' "
    "AND updated_at < now() - GREATEST($1 * interval '1 millisecond', LEAST(updated_at - created_at, "
    "$3 * interval '1 millisecond')) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id"};
// By id in ($3, $4], oldest first: the index on (status, id) meets them first, and stops at
// `limit` or at $4 (no order past it can qualify: UnpaidExpiry), so a round reads the old
// CONFIRMED orders, not every one (an hour of unpaid checkouts: ~50 ms for 100k).
constexpr pg::Statement kUnpaid{
    "order_unpaid",
    "SELECT id FROM orders WHERE status = 'CONFIRMED' AND id > $3 AND id <= $4 "
    "AND updated_at < now() - $1 * interval '1 millisecond' ORDER BY id LIMIT $2"};
constexpr pg::Statement kNewestId{"order_newest_id", "SELECT COALESCE(max(id), 0) FROM orders"};
// The round's lease (migration 0008): due when next_at has passed; taking it moves next_at on
// by $1 ms in the same statement, so two replicas cannot both take one round. Also due when
// next_at lies more than a lease beyond where a take sets it (the database's clock was set
// back; concurrent takes differ by milliseconds, never by that), and an emptied table gets
// its row again: the lease can stall no round for good. Answers the lease's next_at, which
// only its holder may hand back.
constexpr pg::Statement kTakeUnpaidRound{
    "order_take_unpaid_round",
    "INSERT INTO unpaid_round (only_row, next_at) VALUES (true, now() + $1 * interval '1 millisecond') "
    "ON CONFLICT (only_row) DO UPDATE SET next_at = excluded.next_at "
    "WHERE unpaid_round.next_at <= now() OR unpaid_round.next_at > excluded.next_at + $1 * interval '1 millisecond' "
    "RETURNING next_at::text"};
constexpr pg::Statement kHandBackUnpaidRound{"order_hand_back_unpaid_round",
                                             "UPDATE unpaid_round SET next_at = now() WHERE next_at = $1::timestamptz"};
constexpr pg::Statement kUnpaidRoundCursor{"order_unpaid_round_cursor",
                                           "SELECT COALESCE((SELECT after_id FROM unpaid_round), 0)"};
constexpr pg::Statement kSetUnpaidRoundCursor{"order_set_unpaid_round_cursor", "UPDATE unpaid_round SET after_id = $1"};
#undef ORDER_FILTER
#undef ORDER_COLUMNS

Status status_of(const pg::Result& r, int row, int col) {
  auto s = parse_status(r.text(row, col));
  if (!s) throw std::logic_error("orders_db holds an unknown status: " + r.str(row, col));  // the CHECK forbids it
  return *s;
}

Order order_row(const pg::Result& r, int i) {
  Order o;
  o.id = r.int64(i, 0);
  o.customer_id = r.int64(i, 1);
  o.status = status_of(r, i, 2);
  o.total_cents = r.int64(i, 3);
  o.shipping_address = r.opt_str(i, 4);
  o.created_at = r.str(i, 5);
  o.updated_at = r.str(i, 6);
  return o;
}

// Fills the lines of `orders` (ordered by id as the list query returns them) from kItemsOf's rows.
void fill_items(const pg::Result& r, std::vector<Order>& orders) {
  std::size_t at = 0;
  for (int i = 0; i < r.rows(); ++i) {
    std::int64_t order_id = r.int64(i, 0);
    while (at < orders.size() && orders[at].id != order_id) ++at;
    if (at == orders.size()) break;
    orders[at].items.push_back({r.int64(i, 1), r.int64(i, 2), r.int64(i, 3)});
  }
}

void attach_items(pg::Connection& c, std::vector<Order>& orders) {
  if (orders.empty()) return;
  fill_items(c.exec(kItemsOf, {pg::param(pg::int_array(orders, [](const Order& o) { return o.id; }))}), orders);
}

// The order, its lines and its history in one round trip. Outside a transaction, from one
// snapshot (a read-only REPEATABLE READ one): under READ COMMITTED a cancel committed between
// the first read and the last gave a PAID order whose history ended CANCELLED. In the
// caller's transaction, the caller holds the order's lock.
std::optional<Order> load(pg::Connection& c, std::int64_t id, bool own_snapshot) {
  std::vector<pg::Step> steps;
  if (own_snapshot) steps.push_back({nullptr, pg::kBeginReadOnlySnapshot, {}});
  const std::size_t at = steps.size();
  steps.push_back({&kFind, {}, {pg::param(id)}});
  steps.push_back({&kItemsOf, {}, {pg::param("{" + std::to_string(id) + "}")}});
  steps.push_back({&kHistoryOf, {}, {pg::param(id)}});
  if (own_snapshot) steps.push_back({nullptr, "COMMIT", {}});
  auto r = c.exec_pipeline(steps);
  if (r[at].empty()) return std::nullopt;
  std::vector<Order> one{order_row(r[at], 0)};
  fill_items(r[at + 1], one);
  const auto& h = r[at + 2];
  for (int i = 0; i < h.rows(); ++i) one[0].history.push_back({status_of(h, i, 0), h.str(i, 1), h.str(i, 2)});
  return std::move(one[0]);
}
}  // namespace

Order OrderStore::insert(pg::Transaction& tx, const PricedOrder& o, std::int64_t total_cents) {
  auto r = tx.exec(kInsertOrder, {pg::param(o.customer_id), pg::param(total_cents), pg::param(o.shipping_address),
                                  pg::param(pg::int_array(o.lines, [](const PricedLine& l) { return l.product_id; })),
                                  pg::param(pg::int_array(o.lines, [](const PricedLine& l) { return l.quantity; })),
                                  pg::param(pg::int_array(o.lines, [](const PricedLine& l) { return l.unit_price_cents; })),
                                  pg::param("order placed")});
  Order out = order_row(r, 0);
  out.items = o.lines;
  return out;
}

namespace {
std::optional<LockedOrder> order_state(const pg::Result& r, std::int64_t id) {
  if (r.empty()) return std::nullopt;
  LockedOrder o{id, status_of(r, 0, 0), r.int64(0, 1)};
  if (!r.is_null(0, 2)) o.paid_by = r.int64(0, 2);
  return o;
}
}  // namespace

std::optional<LockedOrder> OrderStore::lock(pg::Transaction& tx, std::int64_t id) {
  return order_state(tx.exec(kLock, {pg::param(id)}), id);
}

std::optional<LockedOrder> OrderStore::peek(std::int64_t id) { return order_state(pg::exec(pool_, kPeek, {pg::param(id)}), id); }

void OrderStore::move(pg::Transaction& tx, LockedOrder& o, Status to, std::string_view reason,
                      std::optional<std::int64_t> payment_id) {
  if (!can_transition(o.status, to)) {
    throw std::logic_error("order " + std::to_string(o.id) + ": " + std::string(name(o.status)) + " -> " +
                           std::string(name(to)) + " is not in the status graph");
  }
  const auto paid_by = to == Status::Paid ? payment_id : std::nullopt;
  tx.exec_later(kMove, {pg::param(o.id), pg::param(name(o.status)), pg::param(name(to)), pg::param(reason),
                        pg::param(paid_by)});
  if (paid_by) o.paid_by = paid_by;
  o.status = to;
}

std::optional<Order> OrderStore::find(std::int64_t id) {
  auto lease = pool_.acquire();
  return load(*lease, id, true);
}

std::optional<Order> OrderStore::find(pg::Transaction& tx, std::int64_t id) { return load(tx.connection(), id, false); }

OrderPage OrderStore::list(const OrderFilter& f, const sales::http::Page& page) {
  std::optional<std::string> status;
  if (f.status) status = std::string(name(*f.status));
  OrderPage out;
  auto lease = pool_.acquire();
  auto r = lease->exec(kList,
                       {pg::param(f.customer_id), pg::param(status), pg::param(page.limit), pg::param(page.offset)});
  for (int i = 0; i < r.rows(); ++i) out.items.push_back(order_row(r, i));
  attach_items(*lease, out.items);
  out.total = totals_.total(pg::id_status_key(f.customer_id, status),
                            {page.offset, page.limit, out.items.size(), page.fresh_total}, [&] {
                              return lease->exec(kCount, {pg::param(f.customer_id), pg::param(status)}).int64(0, 0);
                            });
  return out;
}

std::vector<std::int64_t> OrderStore::claim_stale_pending(pg::Transaction& tx, std::chrono::milliseconds age,
                                                          std::chrono::milliseconds max_gap, int limit) {
  return tx.exec(kStalePending, {pg::param(static_cast<std::int64_t>(age.count())), pg::param(std::int64_t{limit}),
                                 pg::param(static_cast<std::int64_t>(max_gap.count()))})
      .int64_column(0);
}

std::vector<std::int64_t> OrderStore::unpaid(std::chrono::milliseconds age, std::int64_t after_id, std::int64_t up_to_id,
                                             int limit) {
  return pg::exec(pool_, kUnpaid, {pg::param(static_cast<std::int64_t>(age.count())), pg::param(std::int64_t{limit}),
                                   pg::param(after_id), pg::param(up_to_id)})
      .int64_column(0);
}

std::int64_t OrderStore::newest_id() { return pg::exec(pool_, kNewestId).int64(0, 0); }

std::optional<std::string> OrderStore::take_unpaid_round(std::chrono::milliseconds until_next) {
  auto r = pg::exec(pool_, kTakeUnpaidRound, {pg::param(static_cast<std::int64_t>(until_next.count()))});
  if (r.empty()) return std::nullopt;
  return r.str(0, 0);
}

void OrderStore::hand_back_unpaid_round(const std::string& lease) {
  pg::exec(pool_, kHandBackUnpaidRound, {pg::param(lease)});
}

std::int64_t OrderStore::unpaid_round_cursor() { return pg::exec(pool_, kUnpaidRoundCursor).int64(0, 0); }

void OrderStore::set_unpaid_round_cursor(std::int64_t after_id) {
  pg::exec(pool_, kSetUnpaidRoundCursor, {pg::param(after_id)});
}

std::map<Status, std::int64_t> OrderStore::count_by_status() {
  std::map<Status, std::int64_t> out;
  sales::service::compact_kept_counts(pool_);
  auto r = pg::exec(pool_, kCountByStatus);
  for (int i = 0; i < r.rows(); ++i) out[status_of(r, i, 0)] = r.int64(i, 1);
  return out;
}

}  // namespace order

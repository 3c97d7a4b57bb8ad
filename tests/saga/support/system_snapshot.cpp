#include "support/system_snapshot.hpp"

#include <stdexcept>
#include <string_view>

#include "sales/pg/pool.hpp"

namespace saga {

namespace pg = sales::pg;

namespace {

// One database read in one read-only snapshot.
class Snapshot {
 public:
  explicit Snapshot(const std::string& conninfo) : conn_(conninfo) {
    conn_.exec_raw("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }
  ~Snapshot() {
    try {
      conn_.exec_raw("ROLLBACK");
    } catch (...) {
    }
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  pg::Result q(std::string_view sql) { return conn_.exec_raw(sql); }

 private:
  pg::Connection conn_;
};

void inbox_duplicates(Snapshot& s, const std::string& db, std::vector<Violation>& out) {
  auto r = s.q("SELECT consumer, message_id, count(*) FROM inbox GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 20");
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({"once", db + ": inbox row (" + r.str(i, 0) + ", " + r.str(i, 1) + ") recorded " + r.str(i, 2) + " times"});
  }
}

void read_inventory(Snapshot& s, SystemSnapshot& sys, std::vector<Violation>&) {
  auto r = s.q("SELECT product_id, initial_stock, stock FROM stock");
  for (int i = 0; i < r.rows(); ++i) sys.stock[r.int64(i, 0)] = {r.int64(i, 1), r.int64(i, 2), 0, 0, false};
  r = s.q("SELECT product_id, kind, sum(delta) FROM stock_movements GROUP BY 1, 2");
  for (int i = 0; i < r.rows(); ++i) {
    auto& row = sys.stock[r.int64(i, 0)];
    const auto kind = r.str(i, 1);
    const Id sum = r.int64(i, 2);
    row.has_movements = true;
    row.ledger += sum;
    if (kind == "adjust" || kind == "take") row.adjustments += sum;
  }
  r = s.q(
      "SELECT order_id, product_id, kind, count(*), sum(delta) FROM stock_movements "
      "WHERE kind IN ('reserve', 'release') GROUP BY 1, 2, 3");
  for (int i = 0; i < r.rows(); ++i) {
    auto& m = sys.movements[{r.int64(i, 0), r.int64(i, 1)}];
    if (r.str(i, 2) == "reserve") {
      m.reserves = r.int64(i, 3);
      m.reserve_delta = r.int64(i, 4);
    } else {
      m.releases = r.int64(i, 3);
      m.release_delta = r.int64(i, 4);
    }
  }
  r = s.q("SELECT order_id, status FROM reservations");
  for (int i = 0; i < r.rows(); ++i) sys.reservations[r.int64(i, 0)] = r.str(i, 1);
  r = s.q("SELECT order_id, product_id, quantity FROM reservation_items");
  for (int i = 0; i < r.rows(); ++i) sys.reservation_items[r.int64(i, 0)][r.int64(i, 1)] = r.int64(i, 2);
}

void read_shipping(Snapshot& s, SystemSnapshot& sys, std::vector<Violation>& out) {
  auto r = s.q("SELECT id, order_id, status FROM shipments");
  for (int i = 0; i < r.rows(); ++i) sys.shipments[r.int64(i, 1)].push_back({r.int64(i, 0), r.str(i, 2)});
  sys.shipment_rows = static_cast<std::size_t>(r.rows());
  r = s.q("SELECT shipment_id, status, count(*) FROM shipment_history GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 50");
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({"once", "shipment " + r.str(i, 0) + " has status " + r.str(i, 1) + " " + r.str(i, 2) +
                               " times in its history"});
  }
}

void read_payments(Snapshot& s, SystemSnapshot& sys, std::vector<Violation>&) {
  auto r = s.q("SELECT id, order_id, amount_cents, status FROM payments");
  for (int i = 0; i < r.rows(); ++i) sys.payments[r.int64(i, 1)].push_back({r.int64(i, 0), r.int64(i, 2), r.str(i, 3)});
  sys.payment_rows = static_cast<std::size_t>(r.rows());
}

void read_products(Snapshot& s, SystemSnapshot& sys, std::vector<Violation>&) {
  auto r = s.q("SELECT id, stock FROM products");
  for (int i = 0; i < r.rows(); ++i) sys.product_copy[r.int64(i, 0)] = r.int64(i, 1);
}

void read_orders(Snapshot& s, SystemSnapshot& sys, std::vector<Violation>&) {
  auto r = s.q("SELECT id, status, total_cents FROM orders");
  for (int i = 0; i < r.rows(); ++i) {
    auto& o = sys.orders[r.int64(i, 0)];
    o.status = r.str(i, 1);
    o.total_cents = r.int64(i, 2);
  }
  r = s.q("SELECT order_id, product_id, quantity, unit_price_cents FROM order_items");
  for (int i = 0; i < r.rows(); ++i) {
    auto it = sys.orders.find(r.int64(i, 0));
    if (it == sys.orders.end()) continue;  // an order inserted after our first read: impossible in one snapshot
    it->second.lines[r.int64(i, 1)] += r.int64(i, 2);
    it->second.lines_cents += r.int64(i, 2) * r.int64(i, 3);
  }
  r = s.q("SELECT order_id, status FROM order_history ORDER BY order_id, id");
  for (int i = 0; i < r.rows(); ++i) {
    auto it = sys.orders.find(r.int64(i, 0));
    if (it != sys.orders.end()) it->second.history.push_back(r.str(i, 1));
  }
}

}  // namespace

SystemSnapshot read_system(const DatabaseConninfos& dbs, std::vector<Violation>& out) {
  using Reader = void (*)(Snapshot&, SystemSnapshot&, std::vector<Violation>&);
  const struct {
    const char* name;
    const std::string& conninfo;
    Reader read;
  } databases[] = {
      {"inventory_db", dbs.inventory, read_inventory}, {"shipping_db", dbs.shipping, read_shipping},
      {"payments_db", dbs.payments, read_payments},    {"products_db", dbs.products, read_products},
      {"orders_db", dbs.orders, read_orders},
  };
  SystemSnapshot sys;
  for (const auto& db : databases) {
    try {
      Snapshot s(db.conninfo);
      db.read(s, sys, out);
      inbox_duplicates(s, db.name, out);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("reading ") + db.name + " failed: " + e.what());
    }
  }
  return sys;
}

}  // namespace saga

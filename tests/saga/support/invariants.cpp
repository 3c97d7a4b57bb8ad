#include "support/invariants.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "sales/pg/pool.hpp"
#include "sales_test/env.hpp"

namespace saga {

namespace pg = sales::pg;

namespace {

using Id = std::int64_t;

const std::set<std::string> kHeld = {"CONFIRMED", "PAID", "SHIPPED", "DELIVERED", "REFUNDED"};

// DESIGN §4's order graph.
const std::map<std::string, std::set<std::string>> kNext = {
    {"PENDING", {"CONFIRMED", "REJECTED", "CANCELLED"}},
    {"CONFIRMED", {"PAID", "CANCELLED"}},
    {"PAID", {"SHIPPED", "CANCELLED"}},
    {"SHIPPED", {"DELIVERED", "REFUNDED"}},
    {"DELIVERED", {"REFUNDED"}},
};

// The shipment statuses that agree with a settled order status.
const std::map<std::string, std::set<std::string>> kShipmentFor = {
    {"CONFIRMED", {"PENDING"}},   {"PAID", {"PENDING"}},
    {"SHIPPED", {"SHIPPED"}},     {"DELIVERED", {"DELIVERED"}},
    {"REFUNDED", {"SHIPPED", "DELIVERED"}},
    {"REJECTED", {"CANCELLED"}},  {"CANCELLED", {"CANCELLED"}},
};

struct OrderRow {
  std::string status;
  Id total_cents = 0;
  std::map<Id, Id> lines;  // product -> quantity
  Id lines_cents = 0;      // Σ quantity × unit price
  std::vector<std::string> history;
};

struct StockRow {
  Id initial = 0;
  Id stock = 0;
  Id adjustments = 0;  // Σ delta of adjust and take movements
  Id ledger = 0;       // Σ delta of all movements
  bool has_movements = false;
};

struct Movement {
  Id reserves = 0, releases = 0, reserve_delta = 0, release_delta = 0;
};

struct ShipmentRow {
  Id id = 0;
  std::string status;
};

struct PaymentRow {
  Id id = 0;
  Id amount_cents = 0;
  std::string status;
};

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
  pg::Result q(std::string_view sql) { return conn_.exec_raw(sql); }

 private:
  pg::Connection conn_;
};

std::string fmt_list(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "→") + s;
  return out;
}

std::string fmt_lines(const std::map<Id, Id>& m) {
  std::string out = "{";
  for (const auto& [p, q] : m) out += (out.size() > 1 ? ", " : "") + std::string("product ") + std::to_string(p) + "×" + std::to_string(q);
  return out + "}";
}

void inbox_duplicates(Snapshot& s, const std::string& db, std::vector<Violation>& out) {
  auto r = s.q("SELECT consumer, message_id, count(*) FROM inbox GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 20");
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({"once", db + ": inbox row (" + r.str(i, 0) + ", " + r.str(i, 1) + ") recorded " + r.str(i, 2) + " times"});
  }
}

}  // namespace

std::string CheckReport::summary() const {
  std::ostringstream os;
  os << "invariants over " << orders << " orders, " << products << " products, " << shipments << " shipments, "
     << payments << " payments (" << rounds << " rounds, waited " << waited.count() << " ms): ";
  if (violations.empty()) {
    os << "all hold";
    return os.str();
  }
  os << violations.size() << " violation(s)";
  // SAGA_INVARIANTS_ALL=1 prints every violation; otherwise 25 per invariant.
  const char* all = std::getenv("SAGA_INVARIANTS_ALL");
  const int limit = all && *all == '1' ? 1 << 30 : 25;
  std::map<std::string, int> shown;
  int hidden = 0;
  for (const auto& v : violations) {
    if (++shown[v.invariant] > limit) {
      ++hidden;
      continue;
    }
    os << "\n  [" << v.invariant << "] " << v.detail;
  }
  if (hidden) os << "\n  ... and " << hidden << " more";
  return os.str();
}

InvariantChecker::InvariantChecker()
    : orders_(sales_test::require_env("SALES_ORDER_DB_CONNINFO")),
      inventory_(sales_test::require_env("SALES_INVENTORY_DB_CONNINFO")),
      shipping_(sales_test::require_env("SALES_SHIPPING_DB_CONNINFO")),
      payments_(sales_test::require_env("SALES_PAYMENT_DB_CONNINFO")),
      products_(sales_test::require_env("SALES_PRODUCT_DB_CONNINFO")) {}

CheckReport InvariantChecker::check_once() const {
  CheckReport rep;
  auto& out = rep.violations;
  std::map<Id, OrderRow> orders;
  std::map<Id, StockRow> stock;
  std::map<std::pair<Id, Id>, Movement> movements;  // (order, product)
  std::map<Id, std::string> reservations;
  std::map<Id, std::map<Id, Id>> reservation_items;
  std::map<Id, std::vector<ShipmentRow>> shipments;
  std::map<Id, std::vector<PaymentRow>> payments;
  std::map<Id, Id> product_copy;  // products_db: id -> read copy of stock

  std::string stage;
  try {
    // Inventory first, orders last: a reservation is taken before its order moves on, so
    // reading in this order makes a settled system look settled and a moving one show at
    // worst transient violations, never miss a real one after settling.
    stage = "inventory_db";
    {
      Snapshot s(inventory_);
      auto r = s.q("SELECT product_id, initial_stock, stock FROM stock");
      for (int i = 0; i < r.rows(); ++i) stock[r.int64(i, 0)] = {r.int64(i, 1), r.int64(i, 2), 0, 0, false};
      r = s.q("SELECT product_id, kind, sum(delta) FROM stock_movements GROUP BY 1, 2");
      for (int i = 0; i < r.rows(); ++i) {
        auto& row = stock[r.int64(i, 0)];
        auto kind = r.str(i, 1);
        Id sum = r.int64(i, 2);
        row.has_movements = true;
        row.ledger += sum;
        if (kind == "adjust" || kind == "take") row.adjustments += sum;
      }
      r = s.q(
          "SELECT order_id, product_id, kind, count(*), sum(delta) FROM stock_movements "
          "WHERE kind IN ('reserve', 'release') GROUP BY 1, 2, 3");
      for (int i = 0; i < r.rows(); ++i) {
        auto& m = movements[{r.int64(i, 0), r.int64(i, 1)}];
        if (r.str(i, 2) == "reserve") {
          m.reserves = r.int64(i, 3);
          m.reserve_delta = r.int64(i, 4);
        } else {
          m.releases = r.int64(i, 3);
          m.release_delta = r.int64(i, 4);
        }
      }
      r = s.q("SELECT order_id, status FROM reservations");
      for (int i = 0; i < r.rows(); ++i) reservations[r.int64(i, 0)] = r.str(i, 1);
      r = s.q("SELECT order_id, product_id, quantity FROM reservation_items");
      for (int i = 0; i < r.rows(); ++i) reservation_items[r.int64(i, 0)][r.int64(i, 1)] = r.int64(i, 2);
      inbox_duplicates(s, "inventory_db", out);
    }
    stage = "shipping_db";
    {
      Snapshot s(shipping_);
      auto r = s.q("SELECT id, order_id, status FROM shipments");
      for (int i = 0; i < r.rows(); ++i) shipments[r.int64(i, 1)].push_back({r.int64(i, 0), r.str(i, 2)});
      rep.shipments = static_cast<std::size_t>(r.rows());
      r = s.q("SELECT shipment_id, status, count(*) FROM shipment_history GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 50");
      for (int i = 0; i < r.rows(); ++i) {
        out.push_back({"once", "shipment " + r.str(i, 0) + " has status " + r.str(i, 1) + " " + r.str(i, 2) +
                                   " times in its history"});
      }
      inbox_duplicates(s, "shipping_db", out);
    }
    stage = "payments_db";
    {
      Snapshot s(payments_);
      auto r = s.q("SELECT id, order_id, amount_cents, status FROM payments");
      for (int i = 0; i < r.rows(); ++i) payments[r.int64(i, 1)].push_back({r.int64(i, 0), r.int64(i, 2), r.str(i, 3)});
      rep.payments = static_cast<std::size_t>(r.rows());
      inbox_duplicates(s, "payments_db", out);
    }
    stage = "products_db";
    {
      Snapshot s(products_);
      auto r = s.q("SELECT id, stock FROM products");
      for (int i = 0; i < r.rows(); ++i) product_copy[r.int64(i, 0)] = r.int64(i, 1);
      inbox_duplicates(s, "products_db", out);
    }
    stage = "orders_db";
    {
      Snapshot s(orders_);
      auto r = s.q("SELECT id, status, total_cents FROM orders");
      for (int i = 0; i < r.rows(); ++i) {
        auto& o = orders[r.int64(i, 0)];
        o.status = r.str(i, 1);
        o.total_cents = r.int64(i, 2);
      }
      r = s.q("SELECT order_id, product_id, quantity, unit_price_cents FROM order_items");
      for (int i = 0; i < r.rows(); ++i) {
        auto it = orders.find(r.int64(i, 0));
        if (it == orders.end()) continue;  // an order inserted after our first read: impossible in one snapshot
        it->second.lines[r.int64(i, 1)] += r.int64(i, 2);
        it->second.lines_cents += r.int64(i, 2) * r.int64(i, 3);
      }
      r = s.q("SELECT order_id, status FROM order_history ORDER BY order_id, id");
      for (int i = 0; i < r.rows(); ++i) {
        auto it = orders.find(r.int64(i, 0));
        if (it != orders.end()) it->second.history.push_back(r.str(i, 1));
      }
      inbox_duplicates(s, "orders_db", out);
    }
  } catch (const std::exception& e) {
    out.push_back({"checker", "reading " + stage + " failed: " + e.what()});
    return rep;
  }
  rep.orders = orders.size();
  rep.products = stock.size();

  // ---- stock
  std::map<Id, Id> held;  // product -> quantity held by CONFIRMED..REFUNDED orders
  for (const auto& [oid, o] : orders) {
    if (!kHeld.contains(o.status)) continue;
    for (const auto& [p, q] : o.lines) held[p] += q;
  }
  for (const auto& [pid, row] : stock) {
    if (row.stock < 0) out.push_back({"stock", "product " + std::to_string(pid) + " has negative stock " + std::to_string(row.stock)});
    Id h = held.contains(pid) ? held[pid] : 0;
    Id expected = row.initial + row.adjustments - h;
    if (row.stock != expected) {
      out.push_back({"stock", "product " + std::to_string(pid) + ": stock " + std::to_string(row.stock) + " != initial " +
                                  std::to_string(row.initial) + " + adjustments " + std::to_string(row.adjustments) +
                                  " - held by confirmed..refunded orders " + std::to_string(h) + " = " +
                                  std::to_string(expected)});
    }
    if (row.has_movements && row.ledger != row.stock) {
      out.push_back({"stock", "product " + std::to_string(pid) + ": stock " + std::to_string(row.stock) +
                                  " != sum of its stock_movements " + std::to_string(row.ledger)});
    }
  }
  for (const auto& [pid, h] : held) {
    if (!stock.contains(pid)) {
      out.push_back({"stock", "product " + std::to_string(pid) + " is held by confirmed orders (" + std::to_string(h) +
                                  ") but has no stock row in inventory_db"});
    }
  }
  for (const auto& [pid, copy] : product_copy) {
    auto it = stock.find(pid);
    if (it == stock.end()) {
      out.push_back({"stock", "product " + std::to_string(pid) + " exists in products_db but has no stock row in inventory_db"});
    } else if (it->second.stock != copy) {
      out.push_back({"stock", "product " + std::to_string(pid) + ": the product service's read copy of stock is " +
                                  std::to_string(copy) + ", the inventory's stock " + std::to_string(it->second.stock)});
    }
  }

  // ---- per order
  for (const auto& [oid, o] : orders) {
    const std::string on = "order " + std::to_string(oid) + " (" + o.status + ")";
    if (o.status == "PENDING") out.push_back({"pending", on + " is still PENDING"});

    if (o.lines_cents != o.total_cents) {
      out.push_back({"total", on + ": total_cents " + std::to_string(o.total_cents) + " != sum of lines " + std::to_string(o.lines_cents)});
    }

    // history: the graph, each status once, ends in the current status
    if (o.history.empty() || o.history.front() != "PENDING") {
      out.push_back({"once", on + ": history does not start with PENDING: " + fmt_list(o.history)});
    } else {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < o.history.size(); ++i) {
        if (!seen.insert(o.history[i]).second) {
          out.push_back({"once", on + ": status " + o.history[i] + " applied twice: " + fmt_list(o.history)});
          break;
        }
        if (i > 0) {
          auto it = kNext.find(o.history[i - 1]);
          if (it == kNext.end() || !it->second.contains(o.history[i])) {
            out.push_back({"once", on + ": transition " + o.history[i - 1] + "→" + o.history[i] +
                                       " is not in DESIGN §4's graph: " + fmt_list(o.history)});
            break;
          }
        }
      }
      if (o.history.back() != o.status) {
        out.push_back({"once", on + ": history ends in " + o.history.back() + ", not the current status: " + fmt_list(o.history)});
      }
    }

    // shipment
    auto sh = shipments.find(oid);
    std::size_t n_ship = sh == shipments.end() ? 0 : sh->second.size();
    if (n_ship == 0) {
      out.push_back({"shipment", on + " has no shipment"});
    } else if (n_ship > 1) {
      std::string ids;
      for (const auto& s : sh->second) ids += " " + std::to_string(s.id) + "(" + s.status + ")";
      out.push_back({"shipment", on + " has " + std::to_string(n_ship) + " shipments:" + ids});
    } else if (auto want = kShipmentFor.find(o.status); want != kShipmentFor.end() && !want->second.contains(sh->second[0].status)) {
      out.push_back({"shipment", on + ": its shipment " + std::to_string(sh->second[0].id) + " is " + sh->second[0].status});
    }

    // payments
    Id confirmed = 0, refunded = 0, live = 0;
    std::string plist;
    if (auto pit = payments.find(oid); pit != payments.end()) {
      for (const auto& p : pit->second) {
        confirmed += p.status == "CONFIRMED";
        refunded += p.status == "REFUNDED";
        live += p.status == "PENDING" || p.status == "CONFIRMED";
        plist += " " + std::to_string(p.id) + "(" + p.status + ")";
        if (p.amount_cents != o.total_cents) {
          out.push_back({"payment", "payment " + std::to_string(p.id) + " of " + on + ": amount_cents " +
                                        std::to_string(p.amount_cents) + " != order total " + std::to_string(o.total_cents)});
        }
      }
    }
    if (confirmed > 1) out.push_back({"payment", on + " has " + std::to_string(confirmed) + " CONFIRMED payments:" + plist});
    if (confirmed + refunded > 1) out.push_back({"payment", on + " was charged more than once:" + plist});
    if (live > 1) out.push_back({"payment", on + " has more than one live payment:" + plist});
    if ((o.status == "PAID" || o.status == "SHIPPED" || o.status == "DELIVERED") && confirmed != 1) {
      out.push_back({"payment", on + " does not have exactly one CONFIRMED payment:" + (plist.empty() ? " none" : plist)});
    }
    if ((o.status == "CANCELLED" || o.status == "REJECTED") && live > 0) {
      out.push_back({"payment", on + " still has a live (PENDING/CONFIRMED) payment:" + plist});
    }
    if (o.status == "REFUNDED" && (confirmed != 0 || refunded == 0)) {
      out.push_back({"payment", on + " is REFUNDED but its payments are:" + (plist.empty() ? " none" : plist)});
    }
    if (o.status == "CONFIRMED" && confirmed != 0) {
      out.push_back({"payment", on + " has a CONFIRMED payment but is not PAID:" + plist});
    }
    if ((o.status == "PENDING" || o.status == "REJECTED") && !plist.empty()) {
      out.push_back({"payment", on + " has payments although it was never CONFIRMED:" + plist});
    }

    // reservation and its movements
    if (o.status != "PENDING") {
      auto rit = reservations.find(oid);
      std::string rs = rit == reservations.end() ? "" : rit->second;
      std::set<std::string> ok;
      if (kHeld.contains(o.status)) ok = {"RESERVED"};
      else if (o.status == "REJECTED") ok = {"REJECTED"};
      else if (o.status == "CANCELLED") ok = {"RELEASED", "CANCELLED", "REJECTED"};
      if (rs.empty()) {
        out.push_back({"reservation", on + " has no reservation row in inventory_db"});
      } else if (!ok.contains(rs)) {
        out.push_back({"reservation", on + ": its reservation is " + rs});
      }
      if (rs == "RESERVED" || rs == "RELEASED") {
        const auto& items = reservation_items[oid];
        if (items != o.lines) {
          out.push_back({"reservation", on + ": reserved " + fmt_lines(items) + " but ordered " + fmt_lines(o.lines)});
        }
      }
      for (const auto& [p, q] : o.lines) {
        auto mit = movements.find({oid, p});
        Movement m = mit == movements.end() ? Movement{} : mit->second;
        Id want_reserve = (rs == "RESERVED" || rs == "RELEASED") ? 1 : 0;
        Id want_release = rs == "RELEASED" ? 1 : 0;
        if (m.reserves != want_reserve || m.releases != want_release ||
            (m.reserves == 1 && m.reserve_delta != -q) || (m.releases == 1 && m.release_delta != q)) {
          out.push_back({"once", on + ", product " + std::to_string(p) + " ×" + std::to_string(q) + ", reservation " +
                                     (rs.empty() ? "none" : rs) + ": " + std::to_string(m.reserves) + " reserve movement(s) (Σ " +
                                     std::to_string(m.reserve_delta) + "), " + std::to_string(m.releases) +
                                     " release movement(s) (Σ " + std::to_string(m.release_delta) + ")"});
        }
      }
    }
  }

  // ---- rows that refer to orders orders_db does not have
  for (const auto& [oid, list] : shipments) {
    if (!orders.contains(oid)) {
      out.push_back({"shipment", "shipment " + std::to_string(list[0].id) + " (" + list[0].status + ") is for order " +
                                     std::to_string(oid) + ", which orders_db does not have"});
    }
  }
  for (const auto& [oid, list] : payments) {
    if (!orders.contains(oid)) {
      out.push_back({"payment", "payment " + std::to_string(list[0].id) + " (" + list[0].status + ") is for order " +
                                    std::to_string(oid) + ", which orders_db does not have"});
    }
  }
  for (const auto& [key, m] : movements) {
    if (!orders.contains(key.first)) {
      out.push_back({"reservation", "stock movements of product " + std::to_string(key.second) + " refer to order " +
                                        std::to_string(key.first) + ", which orders_db does not have"});
    } else if (!orders[key.first].lines.contains(key.second)) {
      out.push_back({"once", "order " + std::to_string(key.first) + " has reserve/release movements of product " +
                                 std::to_string(key.second) + ", which it does not order"});
    }
  }
  for (const auto& [oid, st] : reservations) {
    if (!orders.contains(oid) && st != "CANCELLED") {
      out.push_back({"reservation", "reservation " + st + " of order " + std::to_string(oid) + ", which orders_db does not have"});
    }
  }
  return rep;
}

CheckReport InvariantChecker::check(std::chrono::milliseconds settle) const {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + settle;
  int rounds = 0;
  for (;;) {
    CheckReport rep = check_once();
    rep.rounds = ++rounds;
    rep.waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (rep.ok() || std::chrono::steady_clock::now() >= deadline) return rep;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }
}

std::set<std::string> current_violations() {
  std::set<std::string> out;
  try {
    for (const auto& v : InvariantChecker().check_once().violations) out.insert(v.invariant + ": " + v.detail);
  } catch (const std::exception&) {
  }
  return out;
}

::testing::AssertionResult invariants_hold(std::chrono::milliseconds settle, const std::set<std::string>* known) {
  CheckReport rep;
  std::size_t ignored = 0;
  try {
    InvariantChecker checker;
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + settle;
    for (int round = 1;; ++round) {
      rep = checker.check_once();
      rep.rounds = round;
      rep.waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      if (known) {
        std::vector<Violation> fresh;
        ignored = 0;
        for (auto& v : rep.violations) {
          if (known->contains(v.invariant + ": " + v.detail)) ++ignored;
          else fresh.push_back(std::move(v));
        }
        rep.violations = std::move(fresh);
      }
      if (rep.ok() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    }
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "the invariant checker could not run: " << e.what();
  }
  std::string note = ignored ? " (" + std::to_string(ignored) +
                                   " violation(s) that were already there before this test are not counted here; "
                                   "saga.Invariants.HoldOverAllData reports everything)"
                             : std::string();
  if (rep.ok()) {
    std::cout << "[ invariants ] " << rep.summary() << note << std::endl;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << rep.summary() << note;
}

}  // namespace saga

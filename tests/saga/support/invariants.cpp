#include "support/invariants.hpp"

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "sales_test/env.hpp"
#include "support/system_snapshot.hpp"

namespace saga {

namespace {

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

const std::map<Id, Id>& reservation_items_of(const SystemSnapshot& sys, Id order) {
  static const std::map<Id, Id> kNone;
  auto it = sys.reservation_items.find(order);
  return it == sys.reservation_items.end() ? kNone : it->second;
}

// Stock is never negative, equals initial + adjustments − what held orders took, agrees with
// its ledger, and the catalogue's read copy agrees with it.
void check_stock(const SystemSnapshot& sys, std::vector<Violation>& out) {
  std::map<Id, Id> held;  // product -> quantity held by CONFIRMED..REFUNDED orders
  for (const auto& [oid, o] : sys.orders) {
    if (!kHeld.contains(o.status)) continue;
    for (const auto& [p, q] : o.lines) held[p] += q;
  }
  for (const auto& [pid, row] : sys.stock) {
    if (row.stock < 0) out.push_back({"stock", "product " + std::to_string(pid) + " has negative stock " + std::to_string(row.stock)});
    Id h = held.contains(pid) ? held.at(pid) : 0;
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
    if (!sys.stock.contains(pid)) {
      out.push_back({"stock", "product " + std::to_string(pid) + " is held by confirmed orders (" + std::to_string(h) +
                                  ") but has no stock row in inventory_db"});
    }
  }
  for (const auto& [pid, copy] : sys.product_copy) {
    auto it = sys.stock.find(pid);
    if (it == sys.stock.end()) {
      out.push_back({"stock", "product " + std::to_string(pid) + " exists in products_db but has no stock row in inventory_db"});
    } else if (it->second.stock != copy) {
      out.push_back({"stock", "product " + std::to_string(pid) + ": the product service's read copy of stock is " +
                                  std::to_string(copy) + ", the inventory's stock " + std::to_string(it->second.stock)});
    }
  }
}

// The order's history starts PENDING, follows DESIGN §4's graph, has each status once and
// ends in the current status.
void check_history(const std::string& on, const OrderRow& o, std::vector<Violation>& out) {
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
}

// Exactly one shipment, in a status that agrees with the order's.
void check_shipment(const SystemSnapshot& sys, Id oid, const std::string& on, const OrderRow& o, std::vector<Violation>& out) {
  auto sh = sys.shipments.find(oid);
  std::size_t n_ship = sh == sys.shipments.end() ? 0 : sh->second.size();
  if (n_ship == 0) {
    out.push_back({"shipment", on + " has no shipment"});
  } else if (n_ship > 1) {
    std::string ids;
    for (const auto& s : sh->second) ids += " " + std::to_string(s.id) + "(" + s.status + ")";
    out.push_back({"shipment", on + " has " + std::to_string(n_ship) + " shipments:" + ids});
  } else if (auto want = kShipmentFor.find(o.status); want != kShipmentFor.end() && !want->second.contains(sh->second[0].status)) {
    out.push_back({"shipment", on + ": its shipment " + std::to_string(sh->second[0].id) + " is " + sh->second[0].status});
  }
}

// At most one payment ever charged, of the order's total, and live or not as the order's
// status says.
void check_payments(const SystemSnapshot& sys, Id oid, const std::string& on, const OrderRow& o, std::vector<Violation>& out) {
  Id confirmed = 0, refunded = 0, live = 0;
  std::string plist;
  if (auto pit = sys.payments.find(oid); pit != sys.payments.end()) {
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
}

// A settled order's reservation agrees with its status and lines, with one reserve (and at
// most one release) movement of each line's quantity.
void check_reservation(const SystemSnapshot& sys, Id oid, const std::string& on, const OrderRow& o, std::vector<Violation>& out) {
  if (o.status == "PENDING") return;  // not settled: "pending" says so
  auto rit = sys.reservations.find(oid);
  std::string rs = rit == sys.reservations.end() ? "" : rit->second;
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
    const auto& items = reservation_items_of(sys, oid);
    if (items != o.lines) {
      out.push_back({"reservation", on + ": reserved " + fmt_lines(items) + " but ordered " + fmt_lines(o.lines)});
    }
  }
  for (const auto& [p, q] : o.lines) {
    auto mit = sys.movements.find({oid, p});
    Movement m = mit == sys.movements.end() ? Movement{} : mit->second;
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

// Shipments, payments, movements and reservations of orders that orders_db does not have.
void check_orphans(const SystemSnapshot& sys, std::vector<Violation>& out) {
  for (const auto& [oid, list] : sys.shipments) {
    if (!sys.orders.contains(oid)) {
      out.push_back({"shipment", "shipment " + std::to_string(list[0].id) + " (" + list[0].status + ") is for order " +
                                     std::to_string(oid) + ", which orders_db does not have"});
    }
  }
  for (const auto& [oid, list] : sys.payments) {
    if (!sys.orders.contains(oid)) {
      out.push_back({"payment", "payment " + std::to_string(list[0].id) + " (" + list[0].status + ") is for order " +
                                    std::to_string(oid) + ", which orders_db does not have"});
    }
  }
  for (const auto& [key, m] : sys.movements) {
    if (!sys.orders.contains(key.first)) {
      out.push_back({"reservation", "stock movements of product " + std::to_string(key.second) + " refer to order " +
                                        std::to_string(key.first) + ", which orders_db does not have"});
    } else if (!sys.orders.at(key.first).lines.contains(key.second)) {
      out.push_back({"once", "order " + std::to_string(key.first) + " has reserve/release movements of product " +
                                 std::to_string(key.second) + ", which it does not order"});
    }
  }
  for (const auto& [oid, st] : sys.reservations) {
    if (!sys.orders.contains(oid) && st != "CANCELLED") {
      out.push_back({"reservation", "reservation " + st + " of order " + std::to_string(oid) + ", which orders_db does not have"});
    }
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
    : dbs_{.orders = sales_test::require_env("SALES_ORDER_DB_CONNINFO"),
           .inventory = sales_test::require_env("SALES_INVENTORY_DB_CONNINFO"),
           .shipping = sales_test::require_env("SALES_SHIPPING_DB_CONNINFO"),
           .payments = sales_test::require_env("SALES_PAYMENT_DB_CONNINFO"),
           .products = sales_test::require_env("SALES_PRODUCT_DB_CONNINFO")} {}

CheckReport InvariantChecker::check_once() const {
  CheckReport rep;
  auto& out = rep.violations;
  SystemSnapshot sys;
  try {
    sys = read_system(dbs_, out);
  } catch (const std::exception& e) {
    out.push_back({"checker", e.what()});
    return rep;
  }
  rep.orders = sys.orders.size();
  rep.products = sys.stock.size();
  rep.shipments = sys.shipment_rows;
  rep.payments = sys.payment_rows;
  auto found = check_snapshot(sys);
  out.insert(out.end(), found.begin(), found.end());
  return rep;
}

std::vector<Violation> check_snapshot(const SystemSnapshot& sys) {
  std::vector<Violation> out;
  check_stock(sys, out);
  for (const auto& [oid, o] : sys.orders) {
    const std::string on = "order " + std::to_string(oid) + " (" + o.status + ")";
    if (o.status == "PENDING") out.push_back({"pending", on + " is still PENDING"});
    if (o.lines_cents != o.total_cents) {
      out.push_back({"total", on + ": total_cents " + std::to_string(o.total_cents) + " != sum of lines " + std::to_string(o.lines_cents)});
    }
    check_history(on, o, out);
    check_shipment(sys, oid, on, o, out);
    check_payments(sys, oid, on, o, out);
    check_reservation(sys, oid, on, o, out);
  }
  check_orphans(sys, out);
  return out;
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
          // The checker's own failure (a database it cannot read) is never "known": ignored,
          // it would let every test pass without checking a thing.
          if (v.invariant != "checker" && known->contains(v.invariant + ": " + v.detail)) ++ignored;
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

#pragma once
// The invariant checker of DESIGN §4. It reads every service's database directly, with
// the service's own role (SALES_<NAME>_DB_CONNINFO; read-only transactions only), and
// checks the invariants across databases in C++, over ALL data (the databases keep data
// across test runs, so the invariants must hold for everything ever written):
//
//   stock       for every product in inventory_db: stock >= 0, and stock = initial stock
//               + adjustments and seed take-outs − quantities of the lines of orders that
//               are CONFIRMED, PAID, SHIPPED, DELIVERED or REFUNDED (orders_db); the stock
//               ledger (stock_movements) sums to the stock; a product known to the catalogue
//               has a stock row and its read copy of stock equals the inventory's.
//   pending     no order is PENDING (after settling).
//   shipment    exactly one shipment per order, none without an order, and its status
//               follows the order's (CANCELLED for REJECTED/CANCELLED orders, SHIPPED /
//               DELIVERED for SHIPPED / DELIVERED orders...).
//   payment     at most one CONFIRMED payment per order (and at most one ever charged);
//               PAID/SHIPPED/DELIVERED orders have exactly one CONFIRMED payment, CANCELLED
//               and REJECTED orders none live, REFUNDED orders a REFUNDED one; every
//               payment's amount is its order's total.
//   reservation the inventory's reservation of every settled order agrees with the
//               order's status and lines.
//   once        no event applied twice: at most one reserve and one release movement per
//               order and product (a release only after a reserve, both of the line's
//               quantity), each status at most once in an order's / shipment's history,
//               history follows DESIGN §4's graph and ends in the current status, inbox
//               rows unique.
//   total       an order's total is the exact sum of its lines.
//
// A violation seen while the saga is still moving may be transient, so invariants_hold()
// polls check_once() until none is left or the settle time is over, and reports what is
// left. The rows are read by system_snapshot.{hpp,cpp}.
//
// The checker always reads everything. Each saga test compares with what it saw when it
// began and fails for violations that appeared during it; saga.Invariants.HoldOverAllData
// fails for any violation at all (including damage left by earlier runs).
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace saga {

struct Violation {
  std::string invariant;  // "stock", "pending", "shipment", "payment", "reservation", "once", "total", "checker"
  std::string detail;     // names the product / order / payment and the numbers
};

// The five saga databases' conninfos (the checker reads each with its service's role).
struct DatabaseConninfos {
  std::string orders, inventory, shipping, payments, products;
};

struct CheckReport {
  std::vector<Violation> violations;
  // What was looked at (for the log): orders, products, shipments, payments.
  std::size_t orders = 0, products = 0, shipments = 0, payments = 0;
  std::chrono::milliseconds waited{0};
  int rounds = 0;
  [[nodiscard]] bool ok() const { return violations.empty(); }
  [[nodiscard]] std::string summary() const;  // counts, then the violations (bounded)
};

struct SystemSnapshot;  // system_snapshot.hpp

// Every invariant over rows already read (what check_once() runs after reading them): no
// database, so the checker itself can be tested on hand-made snapshots.
std::vector<Violation> check_snapshot(const SystemSnapshot& sys);

class InvariantChecker {
 public:
  // Conninfos from SALES_{ORDER,INVENTORY,SHIPPING,PAYMENT,PRODUCT}_DB_CONNINFO.
  InvariantChecker();

  // One snapshot of every database (each read in one REPEATABLE READ READ ONLY transaction).
  CheckReport check_once() const;

 private:
  DatabaseConninfos dbs_;
};

// The violations present right now (one snapshot), as "invariant: detail" strings.
std::set<std::string> current_violations();

// For tests: EXPECT_TRUE(saga::invariants_hold(settle, &before)). Polls until no violation is
// left or `settle` has passed. With `known` (current_violations() taken when the test began),
// violations that were already there are not counted (they are reported, with everything
// else, by saga.Invariants.HoldOverAllData), so a test fails for what appeared during it.
::testing::AssertionResult invariants_hold(std::chrono::milliseconds settle = std::chrono::seconds(90),
                                           const std::set<std::string>* known = nullptr);

}  // namespace saga

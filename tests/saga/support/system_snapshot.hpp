#pragma once
// What the invariant checker (invariants.hpp) reads: the rows of the five saga databases
// that DESIGN §4's invariants speak of, each database read in one read-only snapshot.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/invariants.hpp"

namespace saga {

using Id = std::int64_t;

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

struct SystemSnapshot {
  std::map<Id, OrderRow> orders;                                   // orders_db
  std::map<Id, StockRow> stock;                                    // inventory_db, by product
  std::map<std::pair<Id, Id>, Movement> movements;                 // (order, product)
  std::map<Id, std::string> reservations;                          // order -> status
  std::map<Id, std::map<Id, Id>> reservation_items;                // order -> product -> quantity
  std::map<Id, std::vector<ShipmentRow>> shipments;                // shipping_db, by order
  std::map<Id, std::vector<PaymentRow>> payments;                  // payments_db, by order
  std::map<Id, Id> product_copy;                                   // products_db: the read copy of stock
  std::size_t shipment_rows = 0, payment_rows = 0;
};

// Reads every database, inventory first and orders last: a reservation is taken before its
// order moves on, so reading in this order makes a settled system look settled and a
// moving one show at worst transient violations, never miss a real one after settling.
// What can only be seen in one database's own rows (an inbox message recorded twice, a
// status twice in a shipment's history) goes to `out` ("once") as it is read. Throws
// std::runtime_error naming the database whose reading failed.
SystemSnapshot read_system(const DatabaseConninfos& dbs, std::vector<Violation>& out);

}  // namespace saga

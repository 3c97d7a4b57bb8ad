// The invariant checker (support/invariants.hpp) on hand-made snapshots, without databases.
// Every saga, outage and crash test trusts it to see damage, and a wrong rule in it (a status
// missing from a table, a sign in the stock sum) would weaken all of them without a failure:
// so a healthy system with an order in every settled status must pass, and each state below
// breaks one rule and must give exactly that rule's violation.
//
// Not covered here: what read_system() reports while it reads (an inbox message recorded
// twice, a status twice in a shipment's history) needs the databases. Not checked by the
// checker at all: a shipment's history against a graph, a PENDING order's shipment status,
// an order line's price against the catalogue, a stock row the catalogue does not know.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/invariants.hpp"
#include "support/system_snapshot.hpp"

namespace saga {
namespace {

// One order of `qty` × `product` at 1.00 each, with its shipment, payment ("" for none) and
// reservation ("" for none; RESERVED and RELEASED come with their items and movements).
struct HandOrder {
  Id id;
  std::vector<std::string> history;  // its last status is the order's
  Id product, qty;
  std::string shipment, payment, reservation;
};

void add_hand_order(SystemSnapshot& s, const HandOrder& h) {
  s.orders[h.id] = {.status = h.history.back(), .total_cents = 100 * h.qty, .lines = {{h.product, h.qty}},
                    .lines_cents = 100 * h.qty, .history = h.history};
  s.shipments[h.id] = {{.id = 100 + h.id, .status = h.shipment}};
  if (!h.payment.empty()) s.payments[h.id] = {{.id = 200 + h.id, .amount_cents = 100 * h.qty, .status = h.payment}};
  if (h.reservation.empty()) return;
  s.reservations[h.id] = h.reservation;
  if (h.reservation != "RESERVED" && h.reservation != "RELEASED") return;
  s.reservation_items[h.id] = {{h.product, h.qty}};
  s.movements[{h.id, h.product}] = {.reserves = 1, .reserve_delta = -h.qty};
  if (h.reservation == "RELEASED") s.movements[{h.id, h.product}] = {1, 1, -h.qty, h.qty};
}

// A stock row whose ledger and catalogue copy agree with it.
void set_hand_stock(SystemSnapshot& s, Id product, Id initial, Id adjustments, Id stock) {
  s.stock[product] = {.initial = initial, .stock = stock, .adjustments = adjustments, .ledger = stock, .has_movements = true};
  s.product_copy[product] = stock;
}

const std::vector<std::string> kToPaid = {"PENDING", "CONFIRMED", "PAID"};
const std::vector<std::string> kToDelivered = {"PENDING", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED"};

// A settled system: one order in every settled status.
SystemSnapshot healthy_system() {
  SystemSnapshot s;
  add_hand_order(s, {1, {"PENDING", "CONFIRMED"}, 1, 1, "PENDING", "PENDING", "RESERVED"});
  add_hand_order(s, {2, kToPaid, 1, 1, "PENDING", "CONFIRMED", "RESERVED"});
  add_hand_order(s, {3, {"PENDING", "CONFIRMED", "PAID", "SHIPPED"}, 1, 1, "SHIPPED", "CONFIRMED", "RESERVED"});
  add_hand_order(s, {4, kToDelivered, 1, 1, "DELIVERED", "CONFIRMED", "RESERVED"});
  add_hand_order(s, {5, {"PENDING", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED", "REFUNDED"}, 1, 2, "DELIVERED",
                     "REFUNDED", "RESERVED"});
  add_hand_order(s, {6, {"PENDING", "REJECTED"}, 2, 9, "CANCELLED", "", "REJECTED"});
  add_hand_order(s, {7, {"PENDING", "CONFIRMED", "CANCELLED"}, 2, 3, "CANCELLED", "CANCELLED", "RELEASED"});
  // Orders 1-5 (CONFIRMED..REFUNDED) hold 6 of product 1; the rejected and the cancelled one
  // hold nothing of product 2.
  set_hand_stock(s, 1, 10, 2, 6);
  set_hand_stock(s, 2, 5, 0, 5);
  return s;
}

std::string listed(const std::vector<Violation>& found) {
  std::string out;
  for (const auto& v : found) out += "\n  [" + v.invariant + "] " + v.detail;
  return out.empty() ? " none" : out;
}

// Exactly `n` violations, all of `invariant`, one of them saying `detail`.
::testing::AssertionResult finds(const SystemSnapshot& s, std::size_t n, const std::string& invariant,
                                 const std::string& detail) {
  auto found = check_snapshot(s);
  bool said = false;
  for (const auto& v : found) {
    if (v.invariant != invariant) return ::testing::AssertionFailure() << "not only [" << invariant << "]:" << listed(found);
    said = said || v.detail.find(detail) != std::string::npos;
  }
  if (found.size() != n || !said) {
    return ::testing::AssertionFailure() << "want " << n << " [" << invariant << "] saying \"" << detail << "\", got:" << listed(found);
  }
  return ::testing::AssertionSuccess();
}

TEST(InvariantChecker, HealthySystemHasNoViolation) {
  auto found = check_snapshot(healthy_system());
  EXPECT_TRUE(found.empty()) << listed(found);
}

// stock

TEST(InvariantChecker, NegativeStock) {
  auto s = healthy_system();
  set_hand_stock(s, 2, 5, -6, -1);  // taken out below zero, consistently
  EXPECT_TRUE(finds(s, 1, "stock", "product 2 has negative stock -1"));
}

TEST(InvariantChecker, StockIsNotInitialPlusAdjustmentsMinusHeld) {
  auto s = healthy_system();
  set_hand_stock(s, 1, 10, 2, 5);  // one unit more taken than the held orders hold
  EXPECT_TRUE(finds(s, 1, "stock", "product 1: stock 5 != initial 10 + adjustments 2 - held by confirmed..refunded orders 6"));
}

TEST(InvariantChecker, CancelledOrderKeepsItsStock) {
  auto s = healthy_system();
  set_hand_stock(s, 2, 5, 0, 2);  // order 7's 3 units never given back
  EXPECT_TRUE(finds(s, 1, "stock", "product 2: stock 2 != initial 5"));
}

TEST(InvariantChecker, LedgerDisagreesWithStock) {
  auto s = healthy_system();
  s.stock[1].ledger = 7;
  EXPECT_TRUE(finds(s, 1, "stock", "product 1: stock 6 != sum of its stock_movements 7"));
}

TEST(InvariantChecker, HeldProductWithoutStockRow) {
  auto s = healthy_system();
  add_hand_order(s, {8, kToPaid, 3, 1, "PENDING", "CONFIRMED", "RESERVED"});
  EXPECT_TRUE(finds(s, 1, "stock", "product 3 is held by confirmed orders (1) but has no stock row"));
}

TEST(InvariantChecker, CatalogueCopyDisagrees) {
  auto s = healthy_system();
  s.product_copy[1] = 7;
  EXPECT_TRUE(finds(s, 1, "stock", "product 1: the product service's read copy of stock is 7"));
}

TEST(InvariantChecker, CatalogueProductWithoutStockRow) {
  auto s = healthy_system();
  s.product_copy[3] = 0;
  EXPECT_TRUE(finds(s, 1, "stock", "product 3 exists in products_db but has no stock row"));
}

// pending: also that a PENDING order holds no stock (else "stock" too)

TEST(InvariantChecker, OrderStillPending) {
  auto s = healthy_system();
  add_hand_order(s, {8, {"PENDING"}, 1, 1, "PENDING", "", ""});
  EXPECT_TRUE(finds(s, 1, "pending", "order 8 (PENDING) is still PENDING"));
}

// total

TEST(InvariantChecker, TotalIsNotTheSumOfLines) {
  auto s = healthy_system();
  s.orders[2].lines_cents = 150;
  EXPECT_TRUE(finds(s, 1, "total", "order 2 (PAID): total_cents 100 != sum of lines 150"));
}

// once: the order's history

TEST(InvariantChecker, HistoryRefundedThenDelivered) {
  auto s = healthy_system();
  s.orders[4].history = {"PENDING", "CONFIRMED", "PAID", "SHIPPED", "REFUNDED", "DELIVERED"};
  EXPECT_TRUE(finds(s, 1, "once", "transition REFUNDED→DELIVERED is not in DESIGN §4's graph"));
}

TEST(InvariantChecker, HistoryCancelledThenPaid) {
  auto s = healthy_system();
  s.orders[2].history = {"PENDING", "CONFIRMED", "CANCELLED", "PAID"};
  EXPECT_TRUE(finds(s, 1, "once", "transition CANCELLED→PAID"));
}

TEST(InvariantChecker, HistorySkipsConfirmed) {
  auto s = healthy_system();
  s.orders[2].history = {"PENDING", "PAID"};
  EXPECT_TRUE(finds(s, 1, "once", "transition PENDING→PAID"));
}

TEST(InvariantChecker, HistoryStatusTwice) {
  auto s = healthy_system();
  s.orders[3].history = {"PENDING", "CONFIRMED", "PAID", "SHIPPED", "SHIPPED"};
  EXPECT_TRUE(finds(s, 1, "once", "status SHIPPED applied twice"));
}

TEST(InvariantChecker, HistoryDoesNotStartPending) {
  auto s = healthy_system();
  s.orders[1].history = {"CONFIRMED"};
  EXPECT_TRUE(finds(s, 1, "once", "history does not start with PENDING"));
  s.orders[1].history.clear();
  EXPECT_TRUE(finds(s, 1, "once", "history does not start with PENDING"));
}

TEST(InvariantChecker, HistoryEndsElsewhere) {
  auto s = healthy_system();
  s.orders[2].history = {"PENDING", "CONFIRMED"};
  EXPECT_TRUE(finds(s, 1, "once", "history ends in CONFIRMED, not the current status"));
}

// shipment

TEST(InvariantChecker, MissingShipment) {
  auto s = healthy_system();
  s.shipments.erase(2);
  EXPECT_TRUE(finds(s, 1, "shipment", "order 2 (PAID) has no shipment"));
}

TEST(InvariantChecker, DuplicateShipment) {
  auto s = healthy_system();
  s.shipments[2].push_back({.id = 999, .status = "PENDING"});
  EXPECT_TRUE(finds(s, 1, "shipment", "order 2 (PAID) has 2 shipments"));
}

TEST(InvariantChecker, ShipmentBehindItsOrder) {
  auto s = healthy_system();
  s.shipments[3][0].status = "PENDING";
  EXPECT_TRUE(finds(s, 1, "shipment", "order 3 (SHIPPED): its shipment 103 is PENDING"));
}

TEST(InvariantChecker, CancelledOrderShipmentStillLive) {
  auto s = healthy_system();
  s.shipments[7][0].status = "PENDING";
  EXPECT_TRUE(finds(s, 1, "shipment", "order 7 (CANCELLED): its shipment 107 is PENDING"));
}

TEST(InvariantChecker, ShipmentWithoutOrder) {
  auto s = healthy_system();
  s.shipments[99] = {{.id = 199, .status = "PENDING"}};
  EXPECT_TRUE(finds(s, 1, "shipment", "shipment 199 (PENDING) is for order 99, which orders_db does not have"));
}

// payment

TEST(InvariantChecker, TwoConfirmedPayments) {
  auto s = healthy_system();
  s.payments[2].push_back({.id = 998, .amount_cents = 100, .status = "CONFIRMED"});
  // Also charged twice, two live, and not exactly one CONFIRMED.
  EXPECT_TRUE(finds(s, 4, "payment", "order 2 (PAID) has 2 CONFIRMED payments"));
}

TEST(InvariantChecker, ChargedTwice) {
  auto s = healthy_system();
  s.payments[2].push_back({.id = 998, .amount_cents = 100, .status = "REFUNDED"});
  EXPECT_TRUE(finds(s, 1, "payment", "order 2 (PAID) was charged more than once"));
}

TEST(InvariantChecker, PaymentAmountIsNotTheTotal) {
  auto s = healthy_system();
  s.payments[2][0].amount_cents = 99;
  EXPECT_TRUE(finds(s, 1, "payment", "payment 202 of order 2 (PAID): amount_cents 99 != order total 100"));
}

TEST(InvariantChecker, PaidOrderWithoutPayment) {
  auto s = healthy_system();
  s.payments.erase(4);
  EXPECT_TRUE(finds(s, 1, "payment", "order 4 (DELIVERED) does not have exactly one CONFIRMED payment: none"));
}

TEST(InvariantChecker, CancelledOrderWithLivePayment) {
  auto s = healthy_system();
  s.payments[7][0].status = "PENDING";
  EXPECT_TRUE(finds(s, 1, "payment", "order 7 (CANCELLED) still has a live (PENDING/CONFIRMED) payment"));
}

TEST(InvariantChecker, RefundedOrderPaymentNotRefunded) {
  auto s = healthy_system();
  s.payments[5][0].status = "CONFIRMED";
  EXPECT_TRUE(finds(s, 1, "payment", "order 5 (REFUNDED) is REFUNDED but its payments are"));
}

TEST(InvariantChecker, ConfirmedOrderAlreadyCharged) {
  auto s = healthy_system();
  s.payments[1][0].status = "CONFIRMED";
  EXPECT_TRUE(finds(s, 1, "payment", "order 1 (CONFIRMED) has a CONFIRMED payment but is not PAID"));
}

TEST(InvariantChecker, RejectedOrderWithPayment) {
  auto s = healthy_system();
  s.payments[6] = {{.id = 206, .amount_cents = 900, .status = "CANCELLED"}};
  EXPECT_TRUE(finds(s, 1, "payment", "order 6 (REJECTED) has payments although it was never CONFIRMED"));
}

TEST(InvariantChecker, PaymentWithoutOrder) {
  auto s = healthy_system();
  s.payments[99] = {{.id = 299, .amount_cents = 100, .status = "CONFIRMED"}};
  EXPECT_TRUE(finds(s, 1, "payment", "payment 299 (CONFIRMED) is for order 99, which orders_db does not have"));
}

// reservation, and its movements ("once")

TEST(InvariantChecker, HeldOrderWithoutReservation) {
  auto s = healthy_system();
  s.reservations.erase(2);
  s.reservation_items.erase(2);
  s.movements.erase({2, 1});
  EXPECT_TRUE(finds(s, 1, "reservation", "order 2 (PAID) has no reservation row"));
}

TEST(InvariantChecker, ReservationDisagreesWithStatus) {
  auto s = healthy_system();
  s.reservations[1] = "REJECTED";  // the inventory turned it down, the order went on
  s.reservation_items.erase(1);
  s.movements.erase({1, 1});
  EXPECT_TRUE(finds(s, 1, "reservation", "order 1 (CONFIRMED): its reservation is REJECTED"));
}

TEST(InvariantChecker, ReservedOtherThanOrdered) {
  auto s = healthy_system();
  s.reservation_items[2] = {{1, 2}};
  EXPECT_TRUE(finds(s, 1, "reservation", "order 2 (PAID): reserved {product 1×2} but ordered {product 1×1}"));
}

TEST(InvariantChecker, ReservedTwice) {
  auto s = healthy_system();
  s.movements[{2, 1}] = {.reserves = 2, .reserve_delta = -2};
  EXPECT_TRUE(finds(s, 1, "once", "order 2 (PAID), product 1 ×1, reservation RESERVED: 2 reserve movement(s)"));
}

TEST(InvariantChecker, ReleasedTwice) {
  auto s = healthy_system();
  s.movements[{7, 2}] = {1, 2, -3, 6};
  EXPECT_TRUE(finds(s, 1, "once", "order 7 (CANCELLED), product 2 ×3, reservation RELEASED"));
}

TEST(InvariantChecker, MovementOfProductNotOrdered) {
  auto s = healthy_system();
  s.movements[{2, 2}] = {.reserves = 1, .reserve_delta = -1};
  EXPECT_TRUE(finds(s, 1, "once", "order 2 has reserve/release movements of product 2, which it does not order"));
}

TEST(InvariantChecker, MovementWithoutOrder) {
  auto s = healthy_system();
  s.movements[{99, 1}] = {.reserves = 1, .reserve_delta = -1};
  EXPECT_TRUE(finds(s, 1, "reservation", "refer to order 99, which orders_db does not have"));
}

TEST(InvariantChecker, ReservationWithoutOrder) {
  auto s = healthy_system();
  s.reservations[98] = "CANCELLED";  // allowed: the tombstone of a cancel that overtook order.created
  s.reservations[99] = "RESERVED";
  EXPECT_TRUE(finds(s, 1, "reservation", "reservation RESERVED of order 99, which orders_db does not have"));
}

}  // namespace
}  // namespace saga

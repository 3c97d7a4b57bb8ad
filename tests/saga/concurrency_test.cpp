// The same state change requested many times at once: exactly one request makes it, and the
// saga applies it once (the invariant checker then sees one release, one confirmed payment,
// one history entry per status). The others are refused with 409 (a cancel), or answered
// 200 as already done (the PUT transitions: confirm, refund, ship, deliver).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sales/pg/pool.hpp"
#include "sales_test/env.hpp"
#include "support/fixture.hpp"

namespace saga {
namespace {

class Concurrency : public SagaTest {
 protected:
  // n copies of call() at the same moment; the statuses they got, counted.
  static std::map<int, int> burst(int n, const std::function<Res()>& call) {
    std::vector<int> statuses(static_cast<std::size_t>(n));
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        ready++;
        while (ready.load() < n) std::this_thread::yield();
        statuses[static_cast<std::size_t>(i)] = call().status;
      });
    }
    for (auto& t : threads) t.join();
    std::map<int, int> counted;
    for (int s : statuses) counted[s]++;
    return counted;
  }
  static std::string show(const std::map<int, int>& m) {
    std::string out;
    for (auto [s, n] : m) out += " " + std::to_string(n) + "×" + std::to_string(s);
    return out;
  }
};

TEST_F(Concurrency, TenCancelsOfOneOrderCancelOnce) {
  std::int64_t product = create_product(100, 10);
  Res order = confirmed_order(customer_, {{product, 4}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  auto got = burst(10, [&] { return post("/orders/" + std::to_string(order.id()) + "/cancel", ""); });
  EXPECT_EQ(got[200], 1) << show(got);
  EXPECT_EQ(got[409], 9) << show(got);
  EXPECT_EQ(wait_stock(product, 10), 10);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inventory_stock(product), 10) << "stock released more than once";
  Res after = get("/orders/" + std::to_string(order.id()));
  EXPECT_EQ(history_statuses(after), (std::vector<std::string>{"PENDING", "CONFIRMED", "CANCELLED"})) << after;
}

TEST_F(Concurrency, TenConfirmsOfOnePaymentConfirmOnce) {
  std::int64_t product = create_product(100, 10);
  Res order = confirmed_order(customer_, {{product, 1}});
  Res p = post("/payments", R"({"order_id":)" + std::to_string(order.id()) + R"(,"amount":1.00})");
  ASSERT_EQ(p.status, 201) << p;
  auto got = burst(10, [&] { return put("/payments/" + std::to_string(p.id()) + "/confirm", ""); });
  EXPECT_EQ(got[200], 10) << show(got);
  Res paid = wait_order(order.id(), {"PAID"});
  EXPECT_TRUE(has_status(paid, "PAID"));
  EXPECT_EQ(history_statuses(paid), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID"})) << paid;
  // Then ten refunds: one.
  auto refunds = burst(10, [&] { return put("/payments/" + std::to_string(p.id()) + "/refund", ""); });
  EXPECT_EQ(refunds[200], 10) << show(refunds);
  Res cancelled = wait_order(order.id(), {"CANCELLED"});
  EXPECT_TRUE(has_status(cancelled, "CANCELLED"));
  EXPECT_EQ(history_statuses(cancelled), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID", "CANCELLED"}))
      << cancelled;
  EXPECT_EQ(wait_stock(product, 10), 10);
}

TEST_F(Concurrency, TenShipsOfOneShipmentShipOnce) {
  std::int64_t product = create_product(100, 10);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_GT(pay(order.id(), 100), 0);
  auto s = wait_shipment(order.id(), "PENDING");
  std::int64_t sid = int_of(member(s, "id"));
  // Wait until shipping has seen order.paid, so every PUT is legal on its own.
  Res payable = poll("/shipping/" + std::to_string(sid),
                     [](const Res& r) { return r.at("order_paid").is_bool() && r.at("order_paid").as_bool(); }, 10s);
  ASSERT_TRUE(payable.at("order_paid").is_bool() && payable.at("order_paid").as_bool()) << payable;
  auto got = burst(10, [&] { return ship_status(sid, "SHIPPED"); });
  EXPECT_EQ(got[200], 10) << show(got);
  auto delivered = burst(10, [&] { return ship_status(sid, "DELIVERED"); });
  EXPECT_EQ(delivered[200], 10) << show(delivered);
  Res done = wait_order(order.id(), {"DELIVERED"});
  EXPECT_EQ(history_statuses(done), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED"}))
      << done;
  Res shipment = get("/shipping/" + std::to_string(sid));
  EXPECT_EQ(history_statuses(shipment), (std::vector<std::string>{"PENDING", "SHIPPED", "DELIVERED"})) << shipment;
}

TEST_F(Concurrency, ConfirmThenImmediateRefundCancelsTheOrder) {
  // payment.confirmed and payment.refunded right behind each other: PAID, then CANCELLED.
  std::int64_t product = create_product(100, 10);
  for (int i = 0; i < 3; ++i) {
    Res order = confirmed_order(customer_, {{product, 2}});
    Res p = post("/payments", R"({"order_id":)" + std::to_string(order.id()) + R"(,"amount":2.00})");
    ASSERT_EQ(p.status, 201) << p;
    ASSERT_EQ(put("/payments/" + std::to_string(p.id()) + "/confirm", "").status, 200);
    Res refund = put("/payments/" + std::to_string(p.id()) + "/refund", "");
    ASSERT_EQ(refund.status, 200) << refund;
    Res end = wait_order(order.id(), {"CANCELLED"});
    EXPECT_TRUE(has_status(end, "CANCELLED"));
    EXPECT_EQ(history_statuses(end), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID", "CANCELLED"})) << end;
    EXPECT_EQ(str_of(member(wait_shipment(order.id(), "CANCELLED"), "status")), "CANCELLED");
  }
  EXPECT_EQ(wait_stock(product, 10), 10);
}

TEST_F(Concurrency, DeletedProductStillGetsItsStockBack) {
  // A product deleted while an order holds some of its stock: the cancel still puts it back.
  std::int64_t product = create_product(100, 10);
  Res order = confirmed_order(customer_, {{product, 3}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  ASSERT_EQ(request("DELETE", "/products/" + std::to_string(product)).status, 204);
  ASSERT_EQ(post("/orders/" + std::to_string(order.id()) + "/cancel", "").status, 200);
  // The inventory API hides a deleted product (404), so its row is read in inventory_db.
  sales::pg::Connection inventory_db(sales_test::require_env("SALES_INVENTORY_DB_CONNINFO"));
  auto stock_row = [&] {
    return inventory_db.exec_raw("SELECT stock FROM stock WHERE product_id = " + std::to_string(product)).int64(0, 0);
  };
  std::int64_t stock = 0;
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline && (stock = stock_row()) != 10;) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(stock, 10) << "the cancel of an order for a deleted product did not put its 3 units back";
  // No new order can take it.
  EXPECT_TRUE(is_problem(place_order(customer_, {{product, 1}}), 422));
}

}  // namespace
}  // namespace saga

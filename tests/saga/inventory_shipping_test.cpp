// The inventory's seed calls (take-out, adjust), the catalogue's read copy of stock, and
// the seed's POST /shipping {order_id}: one shipment per order, always.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"

namespace saga {
namespace {

class InventoryShipping : public SagaTest {};

std::string take_body(std::int64_t product, std::int64_t quantity) {
  return R"({"product_id":)" + std::to_string(product) + R"(,"quantity":)" + std::to_string(quantity) + "}";
}
std::string adjust_path(std::int64_t product) { return "/inventory/stock/" + std::to_string(product) + "/adjust"; }

TEST_F(InventoryShipping, TakeOutAndAdjustNeverGoBelowZero) {
  std::int64_t product = create_product(100, 10);
  Res got = get("/inventory/stock/" + std::to_string(product));
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(int_of(got.at("product_id")), product);
  EXPECT_FALSE(got.str("updated_at").empty());

  Res take = put("/inventory/stock", take_body(product, 4));
  ASSERT_EQ(take.status, 200) << take;
  EXPECT_EQ(int_of(take.at("stock")), 6) << take;
  EXPECT_TRUE(is_problem(put("/inventory/stock", take_body(product, 7)), 409)) << "taking more than there is";
  EXPECT_EQ(inventory_stock(product), 6);

  Res add = post(adjust_path(product), R"({"delta":5})");
  ASSERT_EQ(add.status, 200) << add;
  EXPECT_EQ(int_of(add.at("stock")), 11);
  Res remove = post(adjust_path(product), R"({"delta":-11})");
  ASSERT_EQ(remove.status, 200) << remove;
  EXPECT_EQ(int_of(remove.at("stock")), 0);
  EXPECT_TRUE(is_problem(post(adjust_path(product), R"({"delta":-1})"), 409)) << "adjusting below zero";
  EXPECT_TRUE(is_problem(put("/inventory/stock", take_body(product, 1)), 409));
  EXPECT_EQ(inventory_stock(product), 0);

  // Invalid input and unknown products.
  EXPECT_TRUE(has_field_error(put("/inventory/stock", take_body(product, 0)), "quantity"));
  EXPECT_TRUE(has_field_error(put("/inventory/stock", R"({"product_id":1})"), "quantity"));
  EXPECT_TRUE(has_field_error(post(adjust_path(product), R"({"delta":"x"})"), "delta"));
  // The product is named in the body: a request that refers to what does not exist (422).
  EXPECT_TRUE(is_problem(put("/inventory/stock", take_body(999999999, 1)), 422));
  EXPECT_TRUE(is_problem(post(adjust_path(999999999), R"({"delta":1})"), 404));

  // A restock makes an order possible again; the take-out and adjustments count in the invariant.
  ASSERT_EQ(post(adjust_path(product), R"({"delta":3})").status, 200);
  Res order = confirmed_order(customer_, {{product, 3}});
  EXPECT_TRUE(has_status(order, "CONFIRMED"));
  EXPECT_EQ(inventory_stock(product), 0);
}

TEST_F(InventoryShipping, ConcurrentTakeOutsNeverOversell) {
  std::int64_t product = create_product(100, 5);
  std::vector<int> status(20);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      status[i] = put("/inventory/stock", take_body(product, 1)).status;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  int ok = 0, conflict = 0;
  for (int s : status) {
    ok += s == 200;
    conflict += s == 409;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(conflict, 15);
  EXPECT_EQ(inventory_stock(product), 0);
}

TEST_F(InventoryShipping, ProductReadCopyOfStockFollowsInventory) {
  std::int64_t product = create_product(100, 12);
  std::string path = "/products/" + std::to_string(product);
  auto follows = [&](std::int64_t want) {
    Res r = poll(path, [&](const Res& x) { return x.status == 200 && int_of(x.at("stock")) == want; }, 5s);
    return int_of(r.at("stock")) == want ? ::testing::AssertionSuccess()
                                         : ::testing::AssertionFailure() << "read copy is not " << want << " within 5 s: " << r;
  };
  EXPECT_TRUE(follows(12));
  ASSERT_EQ(put("/inventory/stock", take_body(product, 2)).status, 200);
  EXPECT_TRUE(follows(10));
  ASSERT_EQ(post(adjust_path(product), R"({"delta":7})").status, 200);
  EXPECT_TRUE(follows(17));
  Res order = confirmed_order(customer_, {{product, 5}});
  EXPECT_TRUE(follows(12));
  ASSERT_EQ(post("/orders/" + std::to_string(order.id()) + "/cancel", "").status, 200);
  EXPECT_TRUE(follows(17));
  // The list shows the same copy.
  Res list = request("GET", "/products?ids=" + std::to_string(product), {}, {{"Cache-Control", "no-cache"}});
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.at("items").as_array().size(), 1u) << list;
  EXPECT_EQ(int_of(member(list.at("items").as_array()[0], "stock")), 17) << list;
}

TEST_F(InventoryShipping, PostShippingReturnsTheOneShipment) {
  std::int64_t product = create_product(100, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  auto existing = wait_shipment(order.id(), "PENDING");
  ASSERT_FALSE(existing.is_null());
  std::int64_t sid = int_of(member(existing, "id"));
  std::string body = R"({"order_id":)" + std::to_string(order.id()) + "}";
  Res r1 = post("/shipping", body);
  EXPECT_TRUE(r1.status == 200 || r1.status == 201) << r1;
  EXPECT_EQ(r1.id(), sid) << "POST /shipping must return the order's shipment, not make a second";
  EXPECT_EQ(r1.str("status"), "PENDING");
  // Concurrent calls: still the one shipment.
  std::vector<Res> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { results[i] = post("/shipping", body); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.id(), sid) << r;
  std::size_t count = 0;
  shipment_of(order.id(), &count);
  EXPECT_EQ(count, 1u);
  Res byid = get("/shipping/" + std::to_string(sid));
  ASSERT_EQ(byid.status, 200) << byid;
  EXPECT_EQ(int_of(byid.at("order_id")), order.id());
  // Unknown order: 422; invalid body: 400.
  EXPECT_TRUE(is_problem(post("/shipping", R"({"order_id":999999999})"), 422));
  EXPECT_TRUE(has_field_error(post("/shipping", R"({"order_id":"x"})"), "order_id"));
  // Filters.
  Res pending = get("/shipping?status=PENDING&order_id=" + std::to_string(order.id()));
  ASSERT_EQ(pending.status, 200) << pending;
  EXPECT_EQ(int_of(pending.at("total")), 1) << pending;
}

TEST_F(InventoryShipping, ConcurrentPostShippingForAFreshOrderMakesOneShipment) {
  // Race POST /shipping against the shipping service's own order.created consumer.
  std::int64_t product = create_product(100, 5);
  Res placed = place_order(customer_, {{product, 1}});
  ASSERT_EQ(placed.status, 201) << placed;
  std::string body = R"({"order_id":)" + std::to_string(placed.id()) + "}";
  std::vector<Res> results(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) threads.emplace_back([&, i] { results[i] = post("/shipping", body); });
  for (auto& t : threads) t.join();
  std::set<std::int64_t> ids;
  for (const auto& r : results) {
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r;
    if (r.id()) ids.insert(r.id());
  }
  EXPECT_EQ(ids.size(), 1u);
  ASSERT_TRUE(has_status(wait_order(placed.id(), {"CONFIRMED"}), "CONFIRMED"));
  std::this_thread::sleep_for(500ms);
  std::size_t count = 0;
  auto s = shipment_of(placed.id(), &count);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(str_of(member(s, "status")), "PENDING");
  if (!ids.empty()) {
    EXPECT_EQ(int_of(member(s, "id")), *ids.begin());
  }
}

}  // namespace
}  // namespace saga

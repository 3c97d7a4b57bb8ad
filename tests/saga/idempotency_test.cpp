// Idempotency-Key on POST /payments, POST /orders and its cancel, and stock changes (DESIGN §3, as Stripe's): a replay
// returns the first response (same id) without a second effect; the same key with another
// body is 422; concurrent repeats produce one resource.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sales/pg/pool.hpp"
#include "sales_test/env.hpp"
#include "support/fixture.hpp"

namespace saga {
namespace {

class Idempotency : public SagaTest {};

std::string payment_body(std::int64_t order_id, std::int64_t cents) {
  return R"({"order_id":)" + std::to_string(order_id) + R"(,"amount":)" + money(cents) + "}";
}

TEST_F(Idempotency, PaymentReplayReturnsTheFirstPayment) {
  std::int64_t product = create_product(4200, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  std::string key = new_key();
  Res first = post("/payments", payment_body(order.id(), 4200), {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 201) << first;
  Res replay = post("/payments", payment_body(order.id(), 4200), {{"Idempotency-Key", key}});
  EXPECT_EQ(replay.status, 201) << replay;
  EXPECT_EQ(replay.id(), first.id()) << replay;
  EXPECT_EQ(replay.str("status"), "PENDING") << replay;
  EXPECT_EQ(payments_of(order.id()).size(), 1u);
  // Same key, another body: 422, nothing created.
  Res other = post("/payments", payment_body(order.id(), 4199), {{"Idempotency-Key", key}});
  EXPECT_TRUE(is_problem(other, 422)) << "same key with a different body";
  // The replay still answers the first response after the payment moved on.
  ASSERT_EQ(put("/payments/" + std::to_string(first.id()) + "/confirm", "").status, 200);
  Res late = post("/payments", payment_body(order.id(), 4200), {{"Idempotency-Key", key}});
  EXPECT_EQ(late.status, 201) << late;
  EXPECT_EQ(late.id(), first.id());
  // A new key for the same order: a second live payment, 409.
  EXPECT_TRUE(is_problem(post("/payments", payment_body(order.id(), 4200), {{"Idempotency-Key", new_key()}}), 409));
  EXPECT_EQ(payments_of(order.id()).size(), 1u);
  EXPECT_TRUE(has_status(wait_order(order.id(), {"PAID"}), "PAID"));
}

// A stock change with a key happens once, however the repeat spells the path; the key
// used on another product's adjustment is another request (422), and changes nothing.
TEST_F(Idempotency, StockChangeReplaysAreOneChangeHoweverThePathIsSpelt) {
  const std::int64_t product = create_product(100, 10);
  const std::int64_t other = create_product(100, 10);
  const std::string id = std::to_string(product);
  const std::string key = new_key();
  Res first = post("/inventory/stock/" + id + "/adjust", R"({"delta":3})", {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(int_of(first.at("stock")), 13) << first;
  Res spelt = post("/inventory/stock/0" + id + "/adjust", R"({"delta":3})", {{"Idempotency-Key", key}});
  EXPECT_EQ(spelt.status, 200) << spelt;
  EXPECT_EQ(spelt.header("Idempotent-Replayed"), "true") << spelt;
  EXPECT_EQ(inventory_stock(product), 13);
  Res elsewhere = post("/inventory/stock/" + std::to_string(other) + "/adjust", R"({"delta":3})", {{"Idempotency-Key", key}});
  EXPECT_TRUE(is_problem(elsewhere, 422)) << elsewhere;
  EXPECT_EQ(inventory_stock(other), 10);

  const std::string take = R"({"product_id":)" + id + R"(,"quantity":2})";
  const std::string take_key = new_key();
  Res took = put("/inventory/stock", take, {{"Idempotency-Key", take_key}});
  ASSERT_EQ(took.status, 200) << took;
  Res again = put("/inventory/stock", take, {{"Idempotency-Key", take_key}});
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true") << again;
  EXPECT_EQ(inventory_stock(product), 11);

  // A key stored before the scopes were named by kind (under the path, the body alone) is
  // still answered, within the keys' 24 hours, instead of adjusting again.
  const std::string old_key = new_key();
  sales::pg::Connection inventory_db(sales_test::require_env("SALES_INVENTORY_DB_CONNINFO"));
  inventory_db.exec_raw("INSERT INTO idempotency_keys (scope, key, request_hash, status, body) VALUES ('POST /inventory/stock/" +
                        id + "/adjust', '" + old_key + "', md5('{\"delta\":5}'), 200, '{\"old\":true}')");
  Res legacy = post("/inventory/stock/" + id + "/adjust", R"({"delta":5})", {{"Idempotency-Key", old_key}});
  EXPECT_EQ(legacy.status, 200) << legacy;
  EXPECT_EQ(legacy.header("Idempotent-Replayed"), "true") << legacy;
  EXPECT_EQ(inventory_stock(product), 11);
}

TEST_F(Idempotency, TenConcurrentPaymentRepeatsMakeOnePayment) {
  std::int64_t product = create_product(1500, 5);
  Res order = confirmed_order(customer_, {{product, 2}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  std::string key = new_key();
  std::vector<Res> results(10);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[i] = post("/payments", payment_body(order.id(), 3000), {{"Idempotency-Key", key}});
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  std::set<std::int64_t> ids;
  int created = 0;
  for (const auto& r : results) {
    if (r.status == 201) {
      ++created;
      ids.insert(r.id());
    } else {
      // A repeat that arrives while the first is in flight may be told so (409), never more.
      EXPECT_EQ(r.status, 409) << r;
    }
  }
  EXPECT_GE(created, 1);
  EXPECT_EQ(ids.size(), 1u) << "concurrent repeats answered with different payments";
  auto ps = payments_of(order.id());
  EXPECT_EQ(ps.size(), 1u) << "concurrent repeats with one key must make exactly one payment";
  // And after the dust settles a repeat gets the same payment.
  Res again = post("/payments", payment_body(order.id(), 3000), {{"Idempotency-Key", key}});
  EXPECT_EQ(again.status, 201) << again;
  if (!ids.empty()) {
    EXPECT_EQ(again.id(), *ids.begin());
  }
}

TEST_F(Idempotency, TenConcurrentPaymentsWithDifferentKeysMakeOneLivePayment) {
  std::int64_t product = create_product(700, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  std::vector<Res> results(10);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[i] = post("/payments", payment_body(order.id(), 700), {{"Idempotency-Key", new_key()}});
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  int created = 0;
  for (const auto& r : results) {
    if (r.status == 201) ++created;
    else EXPECT_TRUE(is_problem(r, 409));
  }
  EXPECT_EQ(created, 1) << "exactly one live payment per order, whatever the concurrency";
  EXPECT_EQ(payments_of(order.id()).size(), 1u);
}

TEST_F(Idempotency, OrderReplayReturnsTheFirstOrder) {
  std::int64_t product = create_product(250, 10);
  std::string key = new_key();
  Res first = place_order(customer_, {{product, 2}}, key);
  ASSERT_EQ(first.status, 201) << first;
  Res replay = place_order(customer_, {{product, 2}}, key);
  EXPECT_EQ(replay.status, 201) << replay;
  EXPECT_EQ(replay.id(), first.id());
  EXPECT_EQ(replay.str("status"), first.str("status")) << "the replay is the first response";
  Res other = place_order(customer_, {{product, 3}}, key);
  EXPECT_TRUE(is_problem(other, 422)) << "same key, different body";
  ASSERT_TRUE(has_status(wait_order(first.id(), {"CONFIRMED"}), "CONFIRMED"));
  Res late = place_order(customer_, {{product, 2}}, key);
  EXPECT_EQ(late.id(), first.id());
  Res list = get("/orders?customer_id=" + std::to_string(customer_));
  EXPECT_EQ(int_of(list.at("total")), 1) << list;
  EXPECT_EQ(inventory_stock(product), 8) << "one order, one reservation";
}

// A client's retry may serialise its body afresh: the same values in another key order,
// spacing and number spelling (2 as 2.0, the seed's one-line form is another request) are
// the same order, through the gateway; two keys on one request are refused.
TEST_F(Idempotency, AnOrderRepeatedInAnotherSpellingIsTheSameOrder) {
  std::int64_t product = create_product(250, 10);
  std::string key = new_key();
  const std::string c = std::to_string(customer_), p = std::to_string(product);
  Res first = post("/orders", R"({"customer_id":)" + c + R"(,"items":[{"product_id":)" + p + R"(,"quantity":2}]})",
                   {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 201) << first;
  Res again = post("/orders", R"( { "items" : [ { "quantity" : 2.0 , "product_id" : )" + p + R"( } ] , "customer_id" : )" + c + " }",
                   {{"Idempotency-Key", key}});
  EXPECT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.id(), first.id()) << again;
  Res two_keys = post("/orders", order_body(customer_, {{product, 1}}), {{"Idempotency-Key", new_key()}, {"Idempotency-Key", new_key()}});
  EXPECT_TRUE(has_field_error(two_keys, "Idempotency-Key")) << two_keys;
  EXPECT_TRUE(is_problem(two_keys, 400)) << two_keys;
  Res list = get("/orders?customer_id=" + c);
  EXPECT_EQ(int_of(list.at("total")), 1) << list;
  EXPECT_EQ(wait_stock(product, 8), 8) << "one order, one reservation";
}

// The gateway retries a POST with a key when an attempt's answer was lost: the repeat of a
// cancel that was made gets that answer, not a 409 for the CANCELLED order.
TEST_F(Idempotency, CancelReplayReturnsTheFirstAnswer) {
  std::int64_t product = create_product(100, 10);
  Res placed = place_order(customer_, {{product, 2}});
  ASSERT_EQ(placed.status, 201) << placed;
  ASSERT_TRUE(has_status(wait_order(placed.id(), {"CONFIRMED"}), "CONFIRMED"));
  const std::string target = "/orders/" + std::to_string(placed.id()) + "/cancel";
  std::string key = new_key();
  Res first = post(target, R"({"reason":"changed my mind"})", {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.str("status"), "CANCELLED");
  Res replay = post(target, R"({"reason":"changed my mind"})", {{"Idempotency-Key", key}});
  EXPECT_EQ(replay.status, 200) << replay;
  EXPECT_EQ(replay.json, first.json);
  EXPECT_EQ(replay.header("Idempotent-Replayed"), "true");
  // Without the key, or with a new one, the cancel is asked again: 409.
  EXPECT_TRUE(is_problem(post(target, R"({"reason":"changed my mind"})"), 409));
  EXPECT_TRUE(is_problem(post(target, R"({"reason":"changed my mind"})", {{"Idempotency-Key", new_key()}}), 409));
  // The key for another order's cancel, or for a placement: another request, 422.
  Res second = place_order(customer_, {{product, 1}});
  ASSERT_EQ(second.status, 201) << second;
  Res elsewhere = post("/orders/" + std::to_string(second.id()) + "/cancel", R"({"reason":"changed my mind"})",
                       {{"Idempotency-Key", key}});
  EXPECT_TRUE(is_problem(elsewhere, 422)) << elsewhere;
  EXPECT_TRUE(is_problem(place_order(customer_, {{product, 1}}, key), 422));
  EXPECT_NE(order_status(second.id()), "CANCELLED");
  // One cancel, one release: the first order's 2 units are back.
  ASSERT_TRUE(has_status(wait_order(second.id(), {"CONFIRMED"}), "CONFIRMED"));
  EXPECT_EQ(wait_stock(product, 9), 9);
  Res history = get("/orders/" + std::to_string(placed.id()));
  EXPECT_EQ(history_statuses(history), (std::vector<std::string>{"PENDING", "CONFIRMED", "CANCELLED"})) << history;
}

TEST_F(Idempotency, TenConcurrentOrderRepeatsMakeOneOrder) {
  std::int64_t product = create_product(100, 50);
  std::string key = new_key();
  std::vector<Res> results(10);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[i] = place_order(customer_, {{product, 3}}, key);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  std::set<std::int64_t> ids;
  for (const auto& r : results) {
    if (r.status == 201) ids.insert(r.id());
    else EXPECT_EQ(r.status, 409) << r;
  }
  EXPECT_EQ(ids.size(), 1u);
  Res list = get("/orders?customer_id=" + std::to_string(customer_));
  EXPECT_EQ(int_of(list.at("total")), 1) << "concurrent repeats with one key must make exactly one order: " << list;
  if (!ids.empty()) {
    ASSERT_TRUE(has_status(wait_order(*ids.begin(), {"CONFIRMED"}), "CONFIRMED"));
  }
  EXPECT_EQ(inventory_stock(product), 47);
}

}  // namespace
}  // namespace saga

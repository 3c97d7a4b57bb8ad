// OVERSELL: 30 concurrent orders of one unit against a stock of 5: exactly 5 confirmed,
// 25 rejected, stock 0 and never negative on the way.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"

namespace saga {
namespace {

class Oversell : public SagaTest {};

TEST_F(Oversell, ThirtyConcurrentOrdersForFiveUnits) {
  std::int64_t product = create_product(999, 5);
  ASSERT_GT(product, 0);
  constexpr int kOrders = 30;

  // Watch the stock while the orders run: it must never be seen below zero.
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> lowest{5};
  std::thread watcher([&] {
    while (!done.load()) {
      if (auto s = inventory_stock(product)) {
        auto cur = lowest.load();
        while (*s < cur && !lowest.compare_exchange_weak(cur, *s)) {
        }
      }
      std::this_thread::sleep_for(5ms);
    }
  });

  std::vector<Res> placed(kOrders);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kOrders; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      placed[i] = place_order(customer_, {{product, 1}});
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  std::map<std::string, int> outcome;
  for (const auto& p : placed) {
    ASSERT_EQ(p.status, 201) << p;
    Res r = wait_order(p.id(), {"CONFIRMED", "REJECTED", "CANCELLED"}, 30s);
    outcome[r.str("status")]++;
    if (r.str("status") == "REJECTED") {
      auto reason = history_reason(r, "REJECTED").value_or("");
      EXPECT_NE(reason.find(std::to_string(product)), std::string::npos) << reason;
    }
  }
  done = true;
  watcher.join();

  EXPECT_EQ(outcome["CONFIRMED"], 5) << "confirmed " << outcome["CONFIRMED"] << ", rejected " << outcome["REJECTED"];
  EXPECT_EQ(outcome["REJECTED"], 25);
  EXPECT_EQ(outcome["PENDING"] + outcome[""], 0) << "orders stuck or unreadable";
  EXPECT_EQ(inventory_stock(product), 0);
  EXPECT_GE(lowest.load(), 0) << "stock was seen below zero";
  Res copy = poll("/products/" + std::to_string(product), [](const Res& r) { return int_of(r.at("stock")) == 0; }, 5s);
  EXPECT_EQ(int_of(copy.at("stock")), 0) << copy;
  // Each of the 30 orders has its one shipment: PENDING for the confirmed, CANCELLED for the rejected.
  int pending = 0, cancelled = 0;
  for (const auto& p : placed) {
    auto want = order_status(p.id()) == "CONFIRMED" ? "PENDING" : "CANCELLED";
    std::size_t count = 0;
    auto s = wait_shipment(p.id(), want, 10s);
    shipment_of(p.id(), &count);
    EXPECT_EQ(count, 1u) << "order " << p.id();
    pending += str_of(member(s, "status")) == "PENDING";
    cancelled += str_of(member(s, "status")) == "CANCELLED";
  }
  EXPECT_EQ(pending, 5);
  EXPECT_EQ(cancelled, 25);
}

}  // namespace
}  // namespace saga

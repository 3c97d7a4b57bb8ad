// Placing an order against a fake directory of customers and products.
#include <gtest/gtest.h>

#include "fake_directory.hpp"

namespace order {
namespace {

const CallContext kContext{"req-1", ""};

TEST(Placement, SnapshotsPricesAndAddress) {
  FakeDirectory d;
  d.customers[1] = {"1 Main St"};
  d.products[7] = {1999};
  d.products[8] = {10};
  auto p = price_order({1, {{7, 2}, {8, 3}}}, d, kContext);
  ASSERT_TRUE(p.order);
  EXPECT_TRUE(p.unknown.empty());
  EXPECT_EQ(p.order->customer_id, 1);
  EXPECT_EQ(p.order->shipping_address, "1 Main St");
  ASSERT_EQ(p.order->lines.size(), 2u);
  EXPECT_EQ(p.order->lines[0].unit_price_cents, 1999);
  EXPECT_EQ(p.order->lines[1].quantity, 3);
  EXPECT_EQ(p.order->lines[1].unit_price_cents, 10);
  EXPECT_EQ(d.seen_request_ids, (std::vector<std::string>{"req-1", "req-1", "req-1"}));
}

// Every order gets a shipment: one with nowhere to go would be paid for and then stuck.
TEST(Placement, ACustomerWithoutAnAddressCannotOrder) {
  FakeDirectory d;
  d.customers[1] = {std::nullopt};
  d.customers[2] = {std::string(" \t")};
  d.customers[3] = {std::string("\u00a0\u200b")};  // kept from before the customer service refused it
  d.products[7] = {100};
  for (std::int64_t customer : {1, 2, 3}) {
    auto p = price_order({customer, {{7, 1}}}, d, kContext);
    EXPECT_FALSE(p.order);
    EXPECT_TRUE(p.unknown.empty());
    ASSERT_EQ(p.unusable.size(), 1u);
    EXPECT_EQ(p.unusable[0].field, "customer_id");
    EXPECT_EQ(p.unusable[0].message, "customer " + std::to_string(customer) + " has no address to ship to");
  }
}

TEST(Placement, NamesEveryUnknownReference) {
  FakeDirectory d;
  d.products[7] = {100};
  auto p = price_order({5, {{7, 1}, {9, 1}, {11, 2}}}, d, kContext);
  EXPECT_FALSE(p.order);
  ASSERT_EQ(p.unknown.size(), 3u);
  EXPECT_EQ(p.unknown[0].field, "customer_id");
  EXPECT_EQ(p.unknown[0].message, "customer 5 does not exist");
  EXPECT_EQ(p.unknown[1].field, "items[1].product_id");
  EXPECT_EQ(p.unknown[2].field, "items[2].product_id");
  EXPECT_EQ(p.unknown[2].message, "product 11 does not exist");
}

TEST(Placement, EachProductIsAskedForOnceAndTheLinesKeepTheirOrder) {
  FakeDirectory d;
  d.customers[1] = {"1 Main St"};
  d.products[7] = {700};
  d.products[8] = {800};
  auto p = price_order({1, {{8, 1}, {7, 2}, {8, 3}}}, d, kContext);
  ASSERT_TRUE(p.order);
  ASSERT_EQ(p.order->lines.size(), 3u);
  EXPECT_EQ(p.order->lines[0].product_id, 8);
  EXPECT_EQ(p.order->lines[1].unit_price_cents, 700);
  EXPECT_EQ(p.order->lines[2].unit_price_cents, 800);
  EXPECT_EQ(d.seen_request_ids.size(), 3u) << "the customer, product 7 and product 8, once each";
}

TEST(Placement, AnUnreachableOwnerIsNotAnUnknownReference) {
  FakeDirectory d;
  d.down = true;
  EXPECT_THROW(price_order({1, {{7, 1}}}, d, kContext), DirectoryUnavailable);
}

}  // namespace
}  // namespace order

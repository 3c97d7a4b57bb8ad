// The store and the event handlers against a real PostgreSQL: idempotence, tombstones,
// and one shipment / one event under concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <thread>
#include <vector>

#include "sales/metrics/metrics.hpp"
#include "sales_test/metrics_text.hpp"
#include "test/shipment_db.hpp"

namespace shipping {
namespace {

using enum ShipmentStatus;
using ShipmentStoreTest = ShipmentDbTest;

TEST_F(ShipmentStoreTest, CreateForOrderMakesOneAndThenReturnsIt) {
  auto first = store().create_for_order({42, Pending, "1 Main St", false, "POST /shipping"});
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.shipment.order_id, 42);
  EXPECT_EQ(first.shipment.address, "1 Main St");
  EXPECT_FALSE(first.shipment.shipped_at);
  auto again = store().create_for_order({42, Pending, "elsewhere", true, "POST /shipping"});
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.shipment.id, first.shipment.id);
  EXPECT_EQ(again.shipment.address, "1 Main St");
  auto history = store().history(first.shipment.id);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].status, Pending);
  EXPECT_EQ(history[0].reason, "POST /shipping");
}

TEST_F(ShipmentStoreTest, ConcurrentCreatesMakeOneShipment) {
  std::atomic<int> created{0};
  std::vector<std::int64_t> ids(8);
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = store().create_for_order({7, Pending, "x", false, "POST /shipping"});
      created += r.created ? 1 : 0;
      ids[i] = r.shipment.id;
    });
  }
  threads.clear();
  EXPECT_EQ(created.load(), 1);
  for (auto id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(shipments_of(7), 1);
}

TEST_F(ShipmentStoreTest, ShipsOnlyOncePaidThenDelivers) {
  auto s = made_by_event(5, false);
  auto refused = store().update_status(s.id, Shipped);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->verdict, UpdateVerdict::NotPaid);
  EXPECT_EQ(store().find(s.id)->status, Pending);
  EXPECT_TRUE(outbox().empty());

  deliver("order.paid", R"({"order_id":5,"payment_id":3})");
  auto shipped = store().update_status(s.id, Shipped);
  EXPECT_EQ(shipped->verdict, UpdateVerdict::Apply);
  EXPECT_EQ(shipped->from, Pending);
  EXPECT_EQ(shipped->shipment.status, Shipped);
  EXPECT_TRUE(shipped->shipment.shipped_at);
  auto again = store().update_status(s.id, Shipped);  // a repeat: the shipment as it is
  EXPECT_EQ(again->verdict, UpdateVerdict::AlreadyApplied);
  EXPECT_EQ(again->shipment.status, Shipped);
  EXPECT_EQ(again->shipment.updated_at, shipped->shipment.updated_at);
  EXPECT_EQ(again->shipment.shipped_at, shipped->shipment.shipped_at);
  EXPECT_EQ(store().update_status(s.id, Pending)->verdict, UpdateVerdict::NotAllowed);
  auto delivered = store().update_status(s.id, Delivered);
  EXPECT_EQ(delivered->verdict, UpdateVerdict::Apply);
  EXPECT_TRUE(delivered->shipment.delivered_at);
  auto delivered_again = store().update_status(s.id, Delivered);
  EXPECT_EQ(delivered_again->verdict, UpdateVerdict::AlreadyApplied);
  EXPECT_EQ(delivered_again->shipment.updated_at, delivered->shipment.updated_at);
  EXPECT_EQ(delivered_again->shipment.delivered_at, delivered->shipment.delivered_at);
  EXPECT_EQ(store().update_status(s.id, Shipped)->verdict, UpdateVerdict::NotAllowed);
  EXPECT_FALSE(store().update_status(s.id + 1000, Shipped));

  auto events = outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "shipment.shipped");
  EXPECT_EQ(events[1].type, "shipment.delivered");
  auto envelope = boost::json::parse(events[0].payload).as_object();
  EXPECT_EQ(envelope.at("correlation_id").as_string(), "order-5");
  EXPECT_EQ(envelope.at("data").as_object().at("shipment_id").as_int64(), s.id);
  EXPECT_EQ(envelope.at("data").as_object().at("order_id").as_int64(), 5);

  std::vector<ShipmentStatus> statuses;
  for (const auto& h : store().history(s.id)) statuses.push_back(h.status);
  EXPECT_EQ(statuses, (std::vector{Pending, Shipped, Delivered}));
}

TEST_F(ShipmentStoreTest, ConcurrentShipRequestsShipOnceAndPublishOneEvent) {
  auto s = made_by_event(11, true);
  std::atomic<int> applied{0}, already{0}, before_apply{0};
  std::vector<std::jthread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = store().update_status(s.id, Shipped, [&](const Shipment&) { ++before_apply; });
      if (r->verdict == UpdateVerdict::Apply) ++applied;
      if (r->verdict == UpdateVerdict::AlreadyApplied && r->shipment.status == Shipped) ++already;
    });
  }
  threads.clear();
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(already.load(), 7);
  EXPECT_EQ(before_apply.load(), 1) << "the order service is asked once";
  EXPECT_EQ(outbox().size(), 1u);
  EXPECT_EQ(store().history(s.id).size(), 2u);  // PENDING, SHIPPED
}

TEST_F(ShipmentStoreTest, OrderCreatedIsIdempotent) {
  made_by_event(3, false);
  deliver("order.created", R"({"order_id":3,"shipping_address":"somewhere else"})");
  EXPECT_EQ(shipments_of(3), 1);
  EXPECT_EQ(store().find_by_order(3)->address, "1 Main St");
  EXPECT_EQ(store().history(store().find_by_order(3)->id).size(), 1u) << "a repeat writes no history";
  deliver("order.created", R"({"order_id":4,"shipping_address":null,"items":[],"total":0})");
  EXPECT_FALSE(store().find_by_order(4)->address);
}

// The insert is queued (it travels with the next statement or the COMMIT): a later event of
// the same batch still finds the shipment, and a repeat within the batch changes nothing.
TEST_F(ShipmentStoreTest, OrderCreatedIsSeenByTheRestOfItsBatch) {
  deliver_together({{"order.created", R"({"order_id":5,"shipping_address":"1 Main St"})"},
                    {"order.created", R"({"order_id":5,"shipping_address":"elsewhere"})"},
                    {"order.paid", R"({"order_id":5,"payment_id":9})"}});
  auto s = store().find_by_order(5);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->order_paid);
  EXPECT_EQ(s->address, "1 Main St");
  EXPECT_EQ(shipments_of(5), 1);
  EXPECT_EQ(store().history(s->id).size(), 1u);
}

TEST_F(ShipmentStoreTest, CancelOrRejectCancelsAPendingShipment) {
  auto s = made_by_event(20, true);
  deliver("order.cancelled", R"({"order_id":20,"reason":"customer asked","previous_status":"PAID"})");
  EXPECT_EQ(store().find(s.id)->status, Cancelled);
  deliver("order.cancelled", R"({"order_id":20,"reason":"payment refunded","previous_status":"PAID"})");
  EXPECT_EQ(store().update_status(s.id, Shipped)->verdict, UpdateVerdict::NotAllowed);
  auto history = store().history(s.id);
  ASSERT_EQ(history.size(), 2u);  // the repeat changed nothing
  EXPECT_EQ(history[1].reason, "order.cancelled: customer asked");

  made_by_event(21, false);
  deliver("order.rejected", R"({"order_id":21,"reason":"insufficient stock"})");
  EXPECT_EQ(store().find_by_order(21)->status, Cancelled);
}

TEST_F(ShipmentStoreTest, CancelBeforeCreatedLeavesATombstone) {
  deliver("order.cancelled", R"({"order_id":30,"reason":"changed my mind","previous_status":"PENDING"})");
  auto tombstone = store().find_by_order(30);
  ASSERT_TRUE(tombstone);
  EXPECT_EQ(tombstone->status, Cancelled);
  EXPECT_FALSE(tombstone->address);
  deliver("order.created", R"({"order_id":30,"shipping_address":"1 Main St"})");
  EXPECT_EQ(store().find_by_order(30)->status, Cancelled);
  EXPECT_FALSE(store().find_by_order(30)->address);
  EXPECT_EQ(shipments_of(30), 1);

  deliver("order.rejected", R"({"order_id":31})");
  EXPECT_EQ(store().find_by_order(31)->status, Cancelled);
}

TEST_F(ShipmentStoreTest, CancelAfterShippingLeavesItShipped) {
  auto late = [](const char* status) {
    return sales::metrics::global()
        .counter("sales_shipping_late_cancels_total", "", {{"event", "order.cancelled"}, {"status", status}})
        .value();
  };
  auto before = late("SHIPPED");
  auto s = made_by_event(40, true);
  store().update_status(s.id, Shipped);
  deliver("order.cancelled", R"({"order_id":40,"reason":"too late","previous_status":"SHIPPED"})");
  EXPECT_EQ(store().find(s.id)->status, Shipped);
  EXPECT_EQ(late("SHIPPED"), before + 1);
}

// Every series is there before any cancel was late (at 0 when this test runs alone, as ctest
// runs it): one born at 1 gives increase() nothing, and the first late cancel raised no alert.
TEST(OrderDispatcher, TheLateCancelSeriesAreThereAtZeroFromTheStart) {
  order_dispatcher();
  auto text = sales::metrics::global().render();
  for (const char* event : {"order.rejected", "order.cancelled"}) {
    for (const char* status : {"SHIPPED", "DELIVERED"}) {
      EXPECT_TRUE(sales_test::metric_sum(text, "sales_shipping_late_cancels_total", {{"event", event}, {"status", status}}))
          << event << " " << status;
    }
  }
}

TEST_F(ShipmentStoreTest, PaidBeforeCreatedIsRetriedNotLost) {
  EXPECT_THROW(deliver("order.paid", R"({"order_id":50,"payment_id":1})"), std::runtime_error);
  EXPECT_FALSE(store().find_by_order(50));  // the failed attempt left nothing behind
  made_by_event(50, false);
  deliver("order.paid", R"({"order_id":50,"payment_id":1})");
  EXPECT_TRUE(store().find_by_order(50)->order_paid);
  deliver("order.paid", R"({"order_id":50,"payment_id":1})");
  EXPECT_TRUE(store().find_by_order(50)->order_paid);
}

TEST_F(ShipmentStoreTest, OrderShippedShipsAShipmentShippingDidNotRecord) {
  // The order moved to SHIPPED at shipping's request, and shipping died before its own
  // commit: the order's event brings the shipment in line, once.
  auto s = made_by_event(60, false);  // order.paid still in flight: the SHIPPED order says it was paid
  deliver("order.shipped", R"({"order_id":60})");
  auto shipped = store().find(s.id);
  EXPECT_EQ(shipped->status, Shipped);
  EXPECT_TRUE(shipped->order_paid);
  EXPECT_TRUE(shipped->shipped_at);
  deliver("order.shipped", R"({"order_id":60})");
  auto events = outbox();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "shipment.shipped");
  std::vector<ShipmentStatus> statuses;
  for (const auto& h : store().history(s.id)) statuses.push_back(h.status);
  EXPECT_EQ(statuses, (std::vector{Pending, Shipped}));
}

TEST_F(ShipmentStoreTest, OrderShippedChangesNothingOnceShippedOrDelivered) {
  auto s = made_by_event(61, true);
  ASSERT_EQ(store().update_status(s.id, Shipped)->verdict, UpdateVerdict::Apply);
  deliver("order.shipped", R"({"order_id":61})");
  ASSERT_EQ(store().update_status(s.id, Delivered)->verdict, UpdateVerdict::Apply);
  deliver("order.shipped", R"({"order_id":61})");
  EXPECT_EQ(store().find(s.id)->status, Delivered);
  EXPECT_EQ(outbox().size(), 2u);  // shipped and delivered, by the PUTs only
}

TEST_F(ShipmentStoreTest, OrderShippedBeforeCreatedIsRetriedNotLost) {
  EXPECT_THROW(deliver("order.shipped", R"({"order_id":62})"), std::runtime_error);
  EXPECT_FALSE(store().find_by_order(62));
}

TEST_F(ShipmentStoreTest, MalformedEventsArePoison) {
  for (const char* bad : {R"({})", R"({"order_id":"5"})", R"({"order_id":0})", R"({"order_id":-3})",
                          R"({"order_id":1.5})", R"({"order_id":18446744073709551615})"}) {
    EXPECT_THROW(deliver("order.created", bad), sales::events::PoisonEvent) << bad;
    EXPECT_THROW(deliver("order.cancelled", bad), sales::events::PoisonEvent) << bad;
    EXPECT_THROW(deliver("order.paid", bad), sales::events::PoisonEvent) << bad;
    EXPECT_THROW(deliver("order.shipped", bad), sales::events::PoisonEvent) << bad;
  }
  EXPECT_THROW(deliver("order.created", R"({"order_id":5,"shipping_address":17})"), sales::events::PoisonEvent);
  EXPECT_THROW(deliver("order.rejected", R"({"order_id":5,"reason":{}})"), sales::events::PoisonEvent);
  EXPECT_FALSE(store().find_by_order(5));
}

TEST_F(ShipmentStoreTest, ListFiltersAndCounts) {
  for (std::int64_t order = 60; order < 65; ++order) made_by_event(order, true);
  store().update_status(store().find_by_order(61)->id, Shipped);
  store().update_status(store().find_by_order(62)->id, Shipped);
  auto all = store().list({}, {.limit = 2, .offset = 1});
  EXPECT_EQ(all.total, 5);
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].order_id, 61);
  auto shipped = store().list({.status = Shipped}, {});
  EXPECT_EQ(shipped.total, 2);
  auto one = store().list({.order_id = 63}, {});
  ASSERT_EQ(one.total, 1);
  EXPECT_EQ(one.items[0].order_id, 63);
  EXPECT_EQ(store().list({.order_id = 63, .status = Shipped}, {}).total, 0);
}

}  // namespace
}  // namespace shipping

// The data of every event the order service publishes (docs/saga.md's table).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "events/order_events.hpp"
#include "events/saga_consumer.hpp"

namespace order {
namespace {

Transition step(Status from, Status to, std::string reason = "why") {
  return Transition{42, from, to, std::move(reason), 3999, 9};
}

std::string data_of(const Transition& t) {
  auto e = transition_event(t);
  return e ? e->type + " " + e->data_json : "none";
}

TEST(OrderEvents, CreatedCarriesLinesTotalAndAddress) {
  Order o;
  o.id = 42;
  o.customer_id = 3;
  o.items = {{7, 3, 10}, {8, 1, 1999}};
  o.total_cents = 2029;
  o.shipping_address = "1 Main St";
  auto e = created_event(o);
  EXPECT_EQ(e.type, "order.created");
  EXPECT_EQ(e.data_json,
            R"({"order_id":42,"customer_id":3,"items":[{"product_id":7,"quantity":3,"unit_price":0.10},)"
            R"({"product_id":8,"quantity":1,"unit_price":19.99}],"total":20.29,"shipping_address":"1 Main St"})");
  o.shipping_address.reset();
  EXPECT_NE(created_event(o).data_json.find(R"("shipping_address":null)"), std::string::npos);
}

TEST(OrderEvents, EachTransitionAnnouncesItselfAsTheTableSays) {
  using enum Status;
  EXPECT_EQ(data_of(step(Pending, Confirmed)), R"(order.confirmed {"order_id":42,"total":39.99})");
  EXPECT_EQ(data_of(step(Pending, Rejected, "insufficient stock")),
            R"(order.rejected {"order_id":42,"reason":"insufficient stock"})");
  EXPECT_EQ(data_of(step(Confirmed, Paid)), R"(order.paid {"order_id":42,"payment_id":9})");
  EXPECT_EQ(data_of(step(Paid, Cancelled, "changed my mind")),
            R"(order.cancelled {"order_id":42,"reason":"changed my mind","previous_status":"PAID"})");
  EXPECT_EQ(data_of(step(Shipped, Refunded)), R"(order.refunded {"order_id":42})");
  EXPECT_EQ(data_of(step(Paid, Shipped)), "none");
  auto shipped = shipped_event(42);
  EXPECT_EQ(shipped.type + " " + shipped.data_json, R"(order.shipped {"order_id":42})");
  EXPECT_EQ(data_of(step(Shipped, Delivered)), "none");
}

TEST(OrderEvents, CancelledAgainNamesTheCurrentStatus) {
  auto e = cancelled_again_event(42, Status::Rejected, "payment confirmed after the order was REJECTED");
  EXPECT_EQ(e.type, "order.cancelled");
  EXPECT_EQ(e.data_json,
            R"({"order_id":42,"reason":"payment confirmed after the order was REJECTED","previous_status":"REJECTED"})");
  EXPECT_EQ(correlation_id(42), "order-42");
}

TEST(RejectionReason, PrefersInventorysTextAndRebuildsItOtherwise) {
  auto data = [](const char* json) { return boost::json::parse(json).as_object(); };
  EXPECT_EQ(rejection_reason(data(R"({"order_id":1,"reason":"insufficient stock for product 7: requested 5, available 2"})")),
            "insufficient stock for product 7: requested 5, available 2");
  EXPECT_EQ(rejection_reason(data(R"({"order_id":1,"product_id":7,"requested":5,"available":2})")),
            "insufficient stock for product 7: requested 5, available 2");
  EXPECT_EQ(rejection_reason(data(R"({"order_id":1,"reason":""})")), "rejected by inventory");
}

}  // namespace
}  // namespace order

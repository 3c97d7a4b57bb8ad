// The order_queue handlers against PostgreSQL: each event's effect, history and outbox.
#include "events/saga_consumer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "order_db.hpp"
#include "sales_test/metrics_text.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/events/envelope.hpp"

namespace order {
namespace {

namespace ev = sales::events;

class SagaConsumerTest : public OrderDbTest {
 protected:
  void SetUp() override {
    OrderDbTest::SetUp();
    if (HasFatalFailure()) return;
    dispatcher_ = saga_dispatcher(*store_, registry_);
  }

  static ev::Envelope envelope(const std::string& type, const std::string& data) {
    ev::Envelope e;
    e.id = ev::new_uuid();
    e.type = type;
    e.occurred_at = ev::now_rfc3339();
    e.data = boost::json::parse(data).as_object();
    return e;
  }
  void deliver(const std::string& type, const std::string& data) {
    auto e = envelope(type, data);
    pg::Transaction tx(*pool_);
    dispatcher_(tx, e);
    tx.commit();  // the consumer's job, after its inbox row
  }
  void deliver(const std::string& type, std::int64_t order_id, const std::string& more = "") {
    deliver(type, R"({"order_id":)" + std::to_string(order_id) + more + "}");
  }

  // An order walked to `to` through the events that lead there (not CANCELLED); the outbox emptied.
  std::int64_t order_in(Status to) {
    auto id = place().id;
    using enum Status;
    if (to == Rejected) deliver("inventory.rejected", id, R"(,"reason":"no stock")");
    if (to != Pending && to != Rejected) deliver("inventory.reserved", id);
    if (to == Paid || to == Shipped || to == Delivered || to == Refunded) deliver("payment.confirmed", id, R"(,"payment_id":5)");
    if (to == Shipped || to == Delivered || to == Refunded) deliver("shipment.shipped", id, R"(,"shipment_id":6)");
    if (to == Delivered) deliver("shipment.delivered", id, R"(,"shipment_id":6)");
    if (to == Refunded) deliver("payment.refunded", id, R"(,"payment_id":5)");
    take_outbox();
    return id;
  }

  // The order is in `status`, reached by a last step written to history with `reason`.
  void expect_last_step(std::int64_t id, Status status, const std::string& reason) {
    auto o = store_->find(id);
    EXPECT_EQ(o->status, status);
    EXPECT_EQ(o->history.back().status, status);
    EXPECT_EQ(o->history.back().reason, reason);
  }

  double ignored(const std::string& event, Status status) {
    return static_cast<double>(registry_
                                   .counter("sales_order_saga_events_ignored_total", "",
                                            {{"event", event}, {"status", std::string(name(status))}})
                                   .value());
  }

  sales::metrics::Registry registry_;
  ev::Dispatcher dispatcher_;
};

TEST_F(SagaConsumerTest, ReservedConfirmsAndAnnouncesTheTotal) {
  auto id = place().id;
  take_outbox();
  deliver("inventory.reserved", id, R"(,"items":[{"product_id":7,"quantity":2}])");
  expect_last_step(id, Status::Confirmed, "stock reserved");
  auto event = sole_event("order.confirmed");
  EXPECT_EQ(event.correlation_id, "order-" + std::to_string(id));
  EXPECT_NE(event.payload.find(R"("data":{"order_id":)" + std::to_string(id) + R"(,"total":39.98})"), std::string::npos)
      << event.payload;
}

TEST_F(SagaConsumerTest, RejectedKeepsInventorysReason) {
  auto id = place().id;
  take_outbox();
  const std::string reason = "insufficient stock for product 7: requested 5, available 2";
  deliver("inventory.rejected", id, R"(,"reason":")" + reason + R"(","product_id":7,"requested":5,"available":2)");
  expect_last_step(id, Status::Rejected, reason);
  auto event = sole_event("order.rejected");
  EXPECT_EQ(event.data.at("reason").as_string(), reason);
}

TEST_F(SagaConsumerTest, PaymentConfirmedPaysAConfirmedOrder) {
  auto id = order_in(Status::Confirmed);
  deliver("payment.confirmed", id, R"(,"payment_id":31,"amount":39.98)");
  expect_last_step(id, Status::Paid, "payment 31 confirmed");
  auto event = sole_event("order.paid");
  EXPECT_EQ(event.data.at("payment_id").as_int64(), 31);
}

TEST_F(SagaConsumerTest, PaymentConfirmedForADeadOrderAsksForTheRefund) {
  for (Status dead : {Status::Cancelled, Status::Rejected}) {
    auto id = place().id;
    if (dead == Status::Rejected) deliver("inventory.rejected", id);
    else {
      deliver("inventory.reserved", id);
      deliver("payment.refunded", id);  // CONFIRMED → CANCELLED, as a cancel
    }
    take_outbox();
    ASSERT_EQ(status_of(id), dead);
    auto history = store_->find(id)->history.size();
    deliver("payment.confirmed", id, R"(,"payment_id":8)");
    EXPECT_EQ(status_of(id), dead);
    EXPECT_EQ(store_->find(id)->history.size(), history);
    auto event = sole_event("order.cancelled");
    EXPECT_EQ(event.data.at("previous_status").as_string(), name(dead));
  }
}

TEST_F(SagaConsumerTest, RefundCancelsBeforeShippingAndRefundsAfter) {
  auto paid = order_in(Status::Paid);
  deliver("payment.refunded", paid, R"(,"payment_id":5,"amount":39.98)");
  expect_last_step(paid, Status::Cancelled, "payment refunded");
  auto event = sole_event("order.cancelled");
  EXPECT_EQ(event.data.at("previous_status").as_string(), "PAID");
  EXPECT_EQ(event.data.at("reason").as_string(), "payment refunded");

  auto delivered = order_in(Status::Delivered);
  deliver("payment.refunded", delivered, R"(,"payment_id":5)");
  EXPECT_EQ(status_of(delivered), Status::Refunded);
  sole_event("order.refunded");
}

// Payment 4 was refunded before payment 5 paid, and its event comes late (it was retried):
// the order stays with the payment that paid it. Payment 5's own refund still cancels.
TEST_F(SagaConsumerTest, ALateRefundOfAnEarlierPaymentLeavesTheOrderPaidByAnother) {
  auto paid = order_in(Status::Paid);  // by payment 5
  deliver("payment.refunded", paid, R"(,"payment_id":4,"amount":39.98)");
  EXPECT_EQ(status_of(paid), Status::Paid);
  EXPECT_TRUE(take_outbox().empty()) << "no cancel announced: payment 5 is not refunded";
  EXPECT_EQ(ignored("payment.refunded", Status::Paid), 1);

  for (Status after : {Status::Shipped, Status::Delivered}) {
    auto id = order_in(after);
    deliver("payment.refunded", id, R"(,"payment_id":4)");
    EXPECT_EQ(status_of(id), after);
    EXPECT_TRUE(take_outbox().empty()) << name(after);
  }

  deliver("payment.refunded", paid, R"(,"payment_id":5,"amount":39.98)");
  expect_last_step(paid, Status::Cancelled, "payment refunded");
  sole_event("order.cancelled");

  // A refund that names no payment is taken as the paying one's, as before paid_by.
  auto unnamed = order_in(Status::Paid);
  deliver("payment.refunded", unnamed);
  expect_last_step(unnamed, Status::Cancelled, "payment refunded");
}

TEST_F(SagaConsumerTest, ShipmentProgressMovesTheOrderWithoutEvents) {
  auto id = order_in(Status::Paid);
  deliver("shipment.shipped", id, R"(,"shipment_id":6)");
  expect_last_step(id, Status::Shipped, "shipment 6 shipped");
  deliver("shipment.delivered", id, R"(,"shipment_id":6)");
  expect_last_step(id, Status::Delivered, "shipment 6 delivered");
  EXPECT_TRUE(take_outbox().empty());
}

TEST_F(SagaConsumerTest, DeliveredBeforeShippedStillEndsDelivered) {
  auto id = order_in(Status::Paid);
  deliver("shipment.delivered", id, R"(,"shipment_id":6)");
  auto o = store_->find(id);
  EXPECT_EQ(o->status, Status::Delivered);
  ASSERT_GE(o->history.size(), 2u);
  EXPECT_EQ(o->history[o->history.size() - 2].status, Status::Shipped);
  deliver("shipment.shipped", id, R"(,"shipment_id":6)");  // late: ignored
  EXPECT_EQ(status_of(id), Status::Delivered);
  EXPECT_EQ(ignored("shipment.shipped", Status::Delivered), 1);
}

TEST_F(SagaConsumerTest, EventsThatDoNotFitAreIgnoredAndCounted) {
  auto id = order_in(Status::Confirmed);
  auto before = store_->find(id);
  deliver("inventory.reserved", id);  // again, under another message id
  deliver("inventory.rejected", id);
  deliver("shipment.shipped", id);
  auto after = store_->find(id);
  EXPECT_EQ(after->status, Status::Confirmed);
  EXPECT_EQ(after->history.size(), before->history.size());
  EXPECT_TRUE(take_outbox().empty());
  EXPECT_EQ(ignored("inventory.reserved", Status::Confirmed), 1);
  EXPECT_EQ(ignored("inventory.rejected", Status::Confirmed), 1);
}

// A consumer batch that rolls back (another event's failure) runs its events again: an
// ignored event is counted by the transaction that settles it, not by each try.
TEST_F(SagaConsumerTest, AnIgnoredEventInARolledBackBatchIsNotCounted) {
  auto id = order_in(Status::Confirmed);
  auto e = envelope("inventory.rejected", R"({"order_id":)" + std::to_string(id) + "}");
  {
    pg::Transaction tx(*pool_);
    dispatcher_(tx, e);
  }  // rolled back
  EXPECT_EQ(ignored("inventory.rejected", Status::Confirmed), 0);
  pg::Transaction tx(*pool_);
  dispatcher_(tx, e);
  tx.commit();
  EXPECT_EQ(ignored("inventory.rejected", Status::Confirmed), 1);
}

TEST_F(SagaConsumerTest, EventsThatCanNeverApplyArePoison) {
  EXPECT_THROW(deliver("inventory.reserved", 999999), ev::PoisonEvent);
  EXPECT_THROW(deliver("inventory.reserved", R"({"items":[]})"), ev::PoisonEvent);
  EXPECT_THROW(deliver("inventory.reserved", R"({"order_id":"12"})"), ev::PoisonEvent);
  EXPECT_THROW(deliver("payment.confirmed", R"({"order_id":-4})"), ev::PoisonEvent);
  auto confirmed = order_in(Status::Confirmed);
  EXPECT_THROW(deliver("payment.confirmed", confirmed), ev::PoisonEvent) << "no payment_id: nothing to ask before a ship";
  EXPECT_EQ(status_of(confirmed), Status::Confirmed);
}

TEST_F(SagaConsumerTest, HandlesExactlyTheOrderQueuesTypes) {
  auto types = dispatcher_.types();
  std::sort(types.begin(), types.end());
  auto table = sales::events::subscribed_types(sales::events::kOrderQueue);
  std::sort(table.begin(), table.end());
  EXPECT_EQ(types, table);
}

// Every series an ignored event can count is there before any was ignored: one born at 1
// gives increase() nothing, and the first such event would raise no alert.
TEST_F(SagaConsumerTest, TheIgnoredEventSeriesAreThereAtZeroFromTheStart) {
  const auto text = registry_.render();  // the dispatcher is made, nothing delivered yet
  for (auto [event, status] : {std::pair{"inventory.reserved", Status::Cancelled}, {"inventory.rejected", Status::Confirmed},
                               {"payment.confirmed", Status::Paid}, {"payment.refunded", Status::Refunded},
                               {"shipment.shipped", Status::Shipped}, {"shipment.delivered", Status::Delivered}}) {
    EXPECT_TRUE(sales_test::metric_sum(text, "sales_order_saga_events_ignored_total",
                                       {{"event", event}, {"status", std::string(name(status))}}))
        << event << " " << name(status);
  }
  EXPECT_FALSE(sales_test::metric_sum(text, "sales_order_saga_events_ignored_total",
                                      {{"event", "inventory.reserved"}, {"status", "PENDING"}}))
      << "a reservation of a PENDING order is applied, never ignored: no series for it";
}

}  // namespace
}  // namespace order

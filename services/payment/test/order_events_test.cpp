// The order.cancelled consumer's handler, as the platform's Consumer calls it.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "events/payment_events.hpp"
#include "test/payment_db.hpp"

namespace payment {
namespace {

using OrderEventsTest = PaymentDbTest;

sales::events::Envelope cancelled(std::string data) {
  sales::events::Envelope e;
  e.id = sales::events::new_uuid();
  e.type = "order.cancelled";
  e.data = boost::json::parse(data).as_object();
  return e;
}

void handle(pg::Pool& pool, const sales::events::Envelope& e) {
  pg::Transaction tx(pool);
  order_events_dispatcher()(tx, e);
  tx.commit();
}

TEST_F(OrderEventsTest, HandlesOrderCancelledOnly) {
  auto d = order_events_dispatcher();
  EXPECT_EQ(d.types(), std::vector<std::string>{"order.cancelled"});
}

TEST_F(OrderEventsTest, RefundsTheConfirmedPaymentOnce) {
  auto p = create(70);
  apply(p.id, PaymentAction::Confirm);
  auto e = cancelled(R"({"order_id":70,"reason":"customer asked","previous_status":"PAID"})");
  handle(*pool_, e);
  handle(*pool_, cancelled(R"({"order_id":70,"reason":"again","previous_status":"CANCELLED"})"));
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Refunded);
  auto events = outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, "payment.refunded");
}

TEST_F(OrderEventsTest, CancelsAPendingPaymentAndRemembersTheOrder) {
  auto p = create(71);
  handle(*pool_, cancelled(R"({"order_id":71})"));  // reason and previous_status are optional
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Cancelled);
  EXPECT_TRUE(outbox().empty());
  EXPECT_THROW(create(71), PaymentConflict);
}

TEST_F(OrderEventsTest, AnEventWithoutAnOrderIdIsPoison) {
  for (const char* data : {R"({})", R"({"order_id":"71"})", R"({"order_id":0})", R"({"order_id":1.5})"}) {
    EXPECT_THROW(handle(*pool_, cancelled(data)), sales::events::PoisonEvent) << data;
  }
}

}  // namespace
}  // namespace payment

// The store against the real PostgreSQL: transitions, events, one live payment per order.
#include "store/payment_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test/payment_db.hpp"

namespace payment {
namespace {

using PaymentStoreTest = PaymentDbTest;

TEST_F(PaymentStoreTest, CreateConfirmRefundPublishesConfirmedAndRefunded) {
  auto p = create(42);
  EXPECT_EQ(p.status, PaymentStatus::Pending);
  EXPECT_EQ(p.order_id, 42);
  EXPECT_EQ(p.amount_cents, 1999);
  EXPECT_TRUE(outbox().empty());

  EXPECT_EQ(apply(p.id, PaymentAction::Confirm)->status, PaymentStatus::Confirmed);
  EXPECT_EQ(apply(p.id, PaymentAction::Refund)->status, PaymentStatus::Refunded);
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Refunded);

  auto events = outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "payment.confirmed");
  EXPECT_EQ(events[1].type, "payment.refunded");
  std::string data = R"("data":{"payment_id":)" + std::to_string(p.id) + R"(,"order_id":42,"amount":19.99})";
  EXPECT_NE(events[0].payload.find(data), std::string::npos) << events[0].payload;
  EXPECT_NE(events[0].payload.find(R"("correlation_id":"order-42")"), std::string::npos);
}

TEST_F(PaymentStoreTest, WrongTransitionsAreConflictsAndChangeNothing) {
  auto p = create(43);
  EXPECT_THROW(apply(p.id, PaymentAction::Refund), PaymentConflict);
  apply(p.id, PaymentAction::Confirm);
  apply(p.id, PaymentAction::Refund);
  try {
    apply(p.id, PaymentAction::Confirm);
    ADD_FAILURE() << "a refunded payment was confirmed";
  } catch (const PaymentConflict& e) {
    EXPECT_STREQ(e.what(), ("Payment " + std::to_string(p.id) +
                            " is REFUNDED; only a PENDING payment can be confirmed.").c_str());
  }
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Refunded);
  EXPECT_EQ(outbox().size(), 2u);
  EXPECT_FALSE(apply(999'999, PaymentAction::Confirm));
}

TEST_F(PaymentStoreTest, ARepeatedConfirmOrRefundReturnsThePaymentAndChangesNothing) {
  auto p = create(48);
  auto confirmed = apply(p.id, PaymentAction::Confirm);
  auto again = apply(p.id, PaymentAction::Confirm);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, PaymentStatus::Confirmed);
  EXPECT_EQ(again->updated_at, confirmed->updated_at);
  EXPECT_EQ(outbox().size(), 1u);

  auto refunded = apply(p.id, PaymentAction::Refund);
  auto refunded_again = apply(p.id, PaymentAction::Refund);
  ASSERT_TRUE(refunded_again);
  EXPECT_EQ(refunded_again->status, PaymentStatus::Refunded);
  EXPECT_EQ(refunded_again->updated_at, refunded->updated_at);
  auto events = outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "payment.confirmed");
  EXPECT_EQ(events[1].type, "payment.refunded");
}

TEST_F(PaymentStoreTest, OneLivePaymentPerOrder) {
  auto first = create(44);
  EXPECT_THROW(create(44), PaymentConflict);
  apply(first.id, PaymentAction::Confirm);
  EXPECT_THROW(create(44), PaymentConflict);
  EXPECT_EQ(store_->list({.order_id = 44}, {}).total, 1);
}

// A refund ends its order (DESIGN §4.7), even while the order service, not having applied
// payment.refunded yet, still answers CONFIRMED: a second payment would charge twice.
TEST_F(PaymentStoreTest, AnOrderWhosePaymentWasRefundedCannotBePaidAgain) {
  auto first = create(46);
  apply(first.id, PaymentAction::Confirm);
  apply(first.id, PaymentAction::Refund);
  try {
    create(46);
    ADD_FAILURE() << "a second payment was taken after a refund";
  } catch (const PaymentConflict& e) {
    EXPECT_NE(std::string(e.what()).find("was refunded"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store_->list({.order_id = 46}, {}).total, 1);
}

TEST_F(PaymentStoreTest, ConcurrentCreatesForOneOrderMakeOnePayment) {
  std::atomic<int> created{0}, refused{0};
  std::vector<std::jthread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      try {
        create(45);
        ++created;
      } catch (const PaymentConflict&) {
        ++refused;
      }
    });
  }
  threads.clear();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), 7);
}

TEST_F(PaymentStoreTest, OrderCancelledRefundsConfirmedCancelsPendingAndBlocksNewPayments) {
  auto confirmed = create(46);
  apply(confirmed.id, PaymentAction::Confirm);
  auto changed = cancel_order(46);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].status, PaymentStatus::Refunded);
  auto pending = create(47);
  EXPECT_EQ(cancel_order(47)[0].status, PaymentStatus::Cancelled);

  auto events = outbox();
  ASSERT_EQ(events.size(), 2u);  // confirmed, refunded; a cancelled PENDING publishes nothing
  EXPECT_EQ(events[1].type, "payment.refunded");

  EXPECT_TRUE(cancel_order(46).empty());  // again: nothing left to undo
  EXPECT_EQ(outbox().size(), 2u);
  EXPECT_THROW(create(46), PaymentConflict);
  EXPECT_THROW(apply(pending.id, PaymentAction::Confirm), PaymentConflict);
}

TEST_F(PaymentStoreTest, APaymentRacingItsOrdersCancellationNeverStaysLive) {
  for (std::int64_t order = 100; order < 140; ++order) {
    {
      std::jthread payer([&] {
        try {
          create(order);
        } catch (const PaymentConflict&) {
        }
      });
      std::jthread canceller([&] { cancel_order(order); });
    }
    for (auto s : {PaymentStatus::Pending, PaymentStatus::Confirmed}) {
      EXPECT_EQ(store_->list({.order_id = order, .status = s}, {}).total, 0) << "order " << order;
    }
  }
}

TEST_F(PaymentStoreTest, CancelBeforeAnyPaymentIsRemembered) {
  EXPECT_TRUE(cancel_order(49).empty());
  try {
    create(49);
    ADD_FAILURE() << "a payment for a cancelled order was taken";
  } catch (const PaymentConflict& e) {
    EXPECT_STREQ(e.what(), "Order 49 was cancelled; it cannot be paid.");
  }
}

TEST_F(PaymentStoreTest, ListFiltersByOrderAndStatusAndPages) {
  for (std::int64_t order = 50; order < 55; ++order) create(order);
  apply(create(55).id, PaymentAction::Confirm);
  EXPECT_EQ(store_->list({}, {.limit = 2, .offset = 0}).items.size(), 2u);
  EXPECT_EQ(store_->list({}, {.limit = 2, .offset = 0}).total, 6);
  auto confirmed = store_->list({.status = PaymentStatus::Confirmed}, {});
  ASSERT_EQ(confirmed.total, 1);
  EXPECT_EQ(confirmed.items[0].order_id, 55);
  EXPECT_EQ(store_->list({.order_id = 52}, {}).items.at(0).order_id, 52);
  EXPECT_EQ(store_->list({.order_id = 52, .status = PaymentStatus::Refunded}, {}).total, 0);
}

}  // namespace
}  // namespace payment

// Decoding and rendering at the HTTP edge: bad input is a 400 naming the field. And the
// confirm and refund routes against PostgreSQL: a repeat is answered as done.
#include "api/payment_handlers.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <thread>
#include <vector>

#include "sales/problem/problem.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/http.hpp"
#include "sales_test/fake_service.hpp"
#include "test/payment_db.hpp"

namespace payment {
namespace {

sales::Problem problem_of(const std::function<void()>& f) {
  auto p = sales_test::problem_of(f);
  if (p.status == 0) ADD_FAILURE() << "no problem thrown";
  return p;
}

TEST(DecodePayment, AcceptsOrderIdAndAmount) {
  auto p = decode_new_payment(R"({"order_id":42,"amount":19.99})");
  EXPECT_EQ(p.order_id, 42);
  EXPECT_EQ(p.amount_cents, 1999);
  EXPECT_EQ(decode_new_payment(R"({"order_id":1,"amount":20})").amount_cents, 2000);
  // 0.00 is the total of a free order; whether it matches is the order's to say (422).
  EXPECT_EQ(decode_new_payment(R"({"order_id":1,"amount":0})").amount_cents, 0);
  EXPECT_EQ(decode_new_payment(R"({"order_id":1,"amount":0.00})").amount_cents, 0);
}

TEST(DecodePayment, RejectsBadFieldsWith400) {
  for (const char* bad :
       {R"({"amount":1})", R"({"order_id":1})", R"({"order_id":0,"amount":1})", R"({"order_id":-3,"amount":1})",
        R"({"order_id":1.5,"amount":1})", R"({"order_id":"1","amount":1})",
        R"({"order_id":1,"amount":-5})", R"({"order_id":1,"amount":1.234})", R"({"order_id":1,"amount":"1.00"})",
        R"({"order_id":1,"amount":1e300})", R"({"order_id":1,"amount":1,"currency":"EUR"})", "[]", "{", ""}) {
    EXPECT_EQ(problem_of([&] { decode_new_payment(bad); }).status, 400) << bad;
  }
}

TEST(DecodePayment, NamesEveryBadField) {
  auto p = problem_of([] { decode_new_payment(R"({"order_id":0,"amount":-1})"); });
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].field, "order_id");
  EXPECT_EQ(p.errors[1].field, "amount");
  EXPECT_EQ(p.errors[1].message, "must not be negative");
}

PaymentFilter filter_of(const std::string& target) {
  return sales_test::list_filter(target, [](sales::http::ListQuery& q) { return decode_filter(q); });
}

TEST(DecodeFilter, TakesOrderIdAndStatus) {
  auto f = filter_of("/payments?order_id=12&status=REFUNDED");
  EXPECT_EQ(f.order_id, 12);
  EXPECT_EQ(f.status, PaymentStatus::Refunded);
  auto none = filter_of("/payments");
  EXPECT_FALSE(none.order_id);
  EXPECT_FALSE(none.status);
}

TEST(DecodeFilter, RejectsBadValues) {
  for (const char* bad : {"/payments?order_id=0", "/payments?order_id=-1", "/payments?order_id=abc",
                          "/payments?order_id=1x", "/payments?order_id=", "/payments?order_id=99999999999999999999",
                          "/payments?status=paid", "/payments?status="}) {
    EXPECT_EQ(problem_of([&] { filter_of(bad); }).status, 400) << bad;
  }
}

TEST(RequirePayable, MapsTheOrdersStateToConflictOrUnprocessable) {
  EXPECT_NO_THROW(require_payable({9, "CONFIRMED", 1999}, 1999));
  auto wrong_status = problem_of([] { require_payable({9, "PENDING", 1999}, 1999); });
  EXPECT_EQ(wrong_status.status, 409);
  EXPECT_EQ(wrong_status.detail, "Order 9 is PENDING; only a CONFIRMED order can be paid.");
  auto wrong_amount = problem_of([] { require_payable({9, "CONFIRMED", 1999}, 1000); });
  EXPECT_EQ(wrong_amount.status, 422);
  EXPECT_EQ(wrong_amount.detail, "The amount does not match order 9's total of 19.99.");
  ASSERT_EQ(wrong_amount.errors.size(), 1u);
  EXPECT_EQ(wrong_amount.errors[0].field, "amount");
}

TEST(Render, PrintsTheContractsShape) {
  Payment p{7, 42, 1999, PaymentStatus::Pending, "t0", "t1"};
  EXPECT_EQ(render(p),
            R"({"id":7,"order_id":42,"amount":19.99,"status":"PENDING","created_at":"t0","updated_at":"t1"})");
}

class PaymentApiTest : public PaymentDbTest {
 protected:
  void SetUp() override {
    PaymentDbTest::SetUp();
    if (HasFatalFailure()) return;
    order_service_.reply(200, R"({"status":"CONFIRMED","total":19.99})");
    register_routes(router_, *store_, orders_);
  }

  // PUT /payments/{id}/{name}, and the router's answer to it.
  static sales::http::Request action(std::int64_t id, std::string_view name) {
    return sales_test::request("PUT", "/payments/" + std::to_string(id) + "/" + std::string(name));
  }
  sales::http::Response put(std::int64_t id, std::string_view name) {
    return sales_test::answer(router_, action(id, name));
  }
  std::vector<std::string> event_types() {
    std::vector<std::string> out;
    for (const auto& [type, payload] : outbox()) out.push_back(type);
    return out;
  }

  sales_test::FakeService order_service_;  // asked before a PENDING payment is confirmed
  OrderClient orders_{{.base_url = order_service_.url()}};
  sales::http::Router router_;
};

// The repeat's body equals the first's, updated_at included: nothing was written, and the
// order service was asked once, before the move.
TEST_F(PaymentApiTest, ARepeatedConfirmAnswers200WithThePaymentAndChangesNothing) {
  auto p = create(70);
  sales::http::Response first;
  EXPECT_TRUE(sales_test::answers_twice_alike(router_, action(p.id, "confirm"), &first));
  EXPECT_NE(first.body.find(R"("status":"CONFIRMED")"), std::string::npos) << first.body;
  EXPECT_EQ(render(*store_->find(p.id)), first.body);
  EXPECT_EQ(event_types(), std::vector<std::string>{"payment.confirmed"});
  EXPECT_EQ(order_service_.requests(), 1);
  EXPECT_EQ(order_service_.last().path(), "/orders/70");
}

// A cancel the order service has answered wins over a confirm sent after it, though this
// service has not had its order.cancelled yet: 409, the payment stays PENDING (the event
// cancels it), nothing is published.
TEST_F(PaymentApiTest, AConfirmIsRefusedOnceTheOrderServiceNoLongerCallsTheOrderConfirmed) {
  auto p = create(76);
  order_service_.reply(200, R"({"status":"CANCELLED","total":19.99})");
  auto refused = put(p.id, "confirm");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("Order 76 is CANCELLED; payment " + std::to_string(p.id) + " can no longer be confirmed."),
            std::string::npos)
      << refused.body;
  order_service_.reply(404, R"({"status":404})");
  EXPECT_EQ(put(p.id, "confirm").status, 409);
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Pending);
  EXPECT_TRUE(event_types().empty());

  // Without the order service's word a PENDING payment is not confirmed; a refund or a
  // repeat of a confirm that happened needs nobody's.
  order_service_.reply(500, "{}");
  auto unavailable = put(p.id, "confirm");
  EXPECT_EQ(unavailable.status, 503) << unavailable.body;
  EXPECT_EQ(unavailable.headers.get(sales::kDependencyUnavailableHeader), "order");
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Pending);
  order_service_.reply(200, R"({"status":"CONFIRMED","total":19.99})");
  ASSERT_EQ(put(p.id, "confirm").status, 200);
  const int asked = order_service_.requests();
  order_service_.reply(500, "{}");
  EXPECT_EQ(put(p.id, "confirm").status, 200);
  EXPECT_EQ(put(p.id, "refund").status, 200);
  EXPECT_EQ(order_service_.requests(), asked);
}

// A malformed Idempotency-Key is the client's mistake, told as such before anyone is asked:
// 400 even while the order service fails, and the order service is not asked.
TEST_F(PaymentApiTest, AConfirmWithAMalformedKeyIs400WhateverTheOrderServiceSays) {
  auto p = create(78);
  order_service_.reply(500, "{}");
  auto req = action(p.id, "confirm");
  req.headers.set("Idempotency-Key", std::string(300, 'k'));
  auto refused = sales_test::answer(router_, req);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("Idempotency-Key"), std::string::npos) << refused.body;
  EXPECT_EQ(order_service_.requests(), 0);
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Pending);
}

// A retry may spell the path another way: /payments/07/confirm is /payments/7/confirm, so the
// same key is a repeat (the first answer, replayed), not "a different request" (422).
TEST_F(PaymentApiTest, ARepeatSpeltWithALeadingZeroIsTheSameRequest) {
  auto p = create(79);
  auto first = action(p.id, "confirm");
  first.headers.set("Idempotency-Key", "key-79");
  auto answered = sales_test::answer(router_, first);
  ASSERT_EQ(answered.status, 200) << answered.body;
  auto again = sales_test::request("PUT", "/payments/0" + std::to_string(p.id) + "/confirm");
  again.headers.set("Idempotency-Key", "key-79");
  auto replayed = sales_test::answer(router_, again);
  EXPECT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_EQ(replayed.headers.get("Idempotent-Replayed"), "true");
  EXPECT_EQ(replayed.body, answered.body);
}

// A confirm that read the payment PENDING and heard the order is PAID, because a concurrent
// confirm of this payment committed meanwhile, is a repeat: 200, not a 409 saying the payment
// can no longer be confirmed. The order's word is applied under the row lock.
TEST_F(PaymentApiTest, AConfirmOvertakenByAConcurrentOneIsARepeatNotARefusal) {
  auto p = create(77);
  order_service_.reply(200, R"({"status":"PAID","total":19.99})", std::chrono::milliseconds(300));
  sales::http::Response late;
  std::jthread confirm([&] { late = put(p.id, "confirm"); });
  ASSERT_TRUE(sales_test::eventually([&] { return order_service_.requests() == 1; }, std::chrono::seconds(5)));
  ASSERT_EQ(apply(p.id, PaymentAction::Confirm)->status, PaymentStatus::Confirmed);  // the other confirm
  confirm.join();
  EXPECT_EQ(late.status, 200) << late.body;
  EXPECT_EQ(late.body, render(*store_->find(p.id)));
}

TEST_F(PaymentApiTest, ARepeatedRefundAnswers200WithThePaymentAndChangesNothing) {
  auto p = create(71);
  ASSERT_EQ(put(p.id, "confirm").status, 200);
  sales::http::Response first;
  EXPECT_TRUE(sales_test::answers_twice_alike(router_, action(p.id, "refund"), &first));
  EXPECT_NE(first.body.find(R"("status":"REFUNDED")"), std::string::npos) << first.body;
  EXPECT_EQ(event_types(), (std::vector<std::string>{"payment.confirmed", "payment.refunded"}));
}

TEST_F(PaymentApiTest, ARefundOfAPaymentTheOrdersCancellationRefundedIsDone) {
  auto p = create(72);
  ASSERT_EQ(put(p.id, "confirm").status, 200);
  ASSERT_EQ(cancel_order(72).size(), 1u);  // refunds it, publishing payment.refunded
  auto refund = put(p.id, "refund");
  EXPECT_EQ(refund.status, 200) << refund.body;
  EXPECT_EQ(refund.body, render(*store_->find(p.id)));
  EXPECT_EQ(event_types(), (std::vector<std::string>{"payment.confirmed", "payment.refunded"}));
}

TEST_F(PaymentApiTest, EveryOtherWrongStatusIsStill409) {
  auto p = create(73);
  EXPECT_EQ(put(p.id, "refund").status, 409);  // PENDING
  ASSERT_EQ(put(p.id, "confirm").status, 200);
  ASSERT_EQ(put(p.id, "refund").status, 200);
  auto confirm = put(p.id, "confirm");  // REFUNDED
  EXPECT_EQ(confirm.status, 409);
  EXPECT_NE(confirm.body.find("is REFUNDED; only a PENDING payment can be confirmed."), std::string::npos)
      << confirm.body;

  auto cancelled = create(74);
  ASSERT_EQ(cancel_order(74).size(), 1u);  // PENDING -> CANCELLED
  EXPECT_EQ(put(cancelled.id, "confirm").status, 409);
  EXPECT_EQ(put(cancelled.id, "refund").status, 409);
  EXPECT_EQ(put(999'999, "confirm").status, 404);
  EXPECT_EQ(store_->find(cancelled.id)->status, PaymentStatus::Cancelled);
  EXPECT_EQ(event_types(), (std::vector<std::string>{"payment.confirmed", "payment.refunded"}));
}

TEST_F(PaymentApiTest, ConcurrentConfirmsConfirmOnceAndPublishOneEvent) {
  auto p = create(75);
  std::vector<sales::http::Response> answers(8);
  {
    std::vector<std::jthread> threads;
    for (auto& a : answers) threads.emplace_back([&] { a = put(p.id, "confirm"); });
  }
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.body, answers[0].body);  // the one confirmation, as each found it
  }
  EXPECT_EQ(store_->find(p.id)->status, PaymentStatus::Confirmed);
  EXPECT_EQ(event_types(), std::vector<std::string>{"payment.confirmed"});
}

}  // namespace
}  // namespace payment

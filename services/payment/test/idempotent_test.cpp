// Idempotency-Key around the payment routes' transactions, against the real PostgreSQL.
#include "api/idempotent.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api/payment_handlers.hpp"
#include "sales/http/render.hpp"
#include "sales/problem/problem.hpp"
#include "sales/service/idempotency.hpp"
#include "test/payment_db.hpp"

namespace payment {
namespace {

namespace http = sales::http;

http::Request post(std::string key, std::string body) {
  http::Request r;
  r.method = "POST";
  r.target = "/payments";
  r.body = std::move(body);
  r.headers.set("Idempotency-Key", std::move(key));
  return r;
}

class IdempotentTest : public PaymentDbTest {
 protected:
  // What POST /payments does once the order has been checked.
  http::Response create_once(const http::Request& req, std::atomic<int>* runs = nullptr) {
    auto wanted = decode_new_payment(req.body);
    return run_once(*pool_, idempotent_request(req, true), [&](pg::Transaction& tx) {
      if (runs) ++*runs;
      auto p = create_payment(tx, wanted);
      return http::created(render(p), "/payments/" + std::to_string(p.id));
    });
  }
};

TEST_F(IdempotentTest, ARepeatGetsTheFirstResponseWithoutASecondPayment) {
  auto req = post("key-1", R"({"order_id":60,"amount":5})");
  EXPECT_FALSE(replay(*pool_, idempotent_request(req, true)));
  auto first = create_once(req);
  EXPECT_EQ(first.status, 201);

  auto again = replay(*pool_, idempotent_request(req, true));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 201);
  EXPECT_EQ(again->body, first.body);
  EXPECT_EQ(again->headers.get("Location"), first.headers.get("Location"));
  EXPECT_EQ(again->headers.get("Idempotent-Replayed"), "true");

  auto second = create_once(req);  // also when the repeat reaches the transaction
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(store_->list({.order_id = 60}, {}).total, 1);
}

TEST_F(IdempotentTest, TheSameKeyWithAnotherRequestIs422) {
  create_once(post("key-2", R"({"order_id":61,"amount":5})"));
  for (auto other : {post("key-2", R"({"order_id":61,"amount":6})"), post("key-2", R"({"order_id":62,"amount":5})")}) {
    try {
      replay(*pool_, idempotent_request(other, true));
      ADD_FAILURE() << "accepted " << other.body;
    } catch (const sales::ProblemError& e) {
      EXPECT_EQ(e.problem().status, 422);
    }
  }
  auto confirm = post("key-2", "");
  confirm.method = "PUT";
  confirm.target = "/payments/1/confirm";
  EXPECT_THROW(replay(*pool_, idempotent_request(confirm, false)), sales::ProblemError);
}

TEST_F(IdempotentTest, ConcurrentRepeatsMakeOnePayment) {
  auto req = post("key-3", R"({"order_id":63,"amount":5})");
  std::atomic<int> runs{0};
  std::vector<std::string> bodies(8);
  {
    std::vector<std::jthread> threads;
    for (auto& body : bodies) threads.emplace_back([&] { body = create_once(req, &runs).body; });
  }
  EXPECT_EQ(runs.load(), 1);
  for (const auto& body : bodies) EXPECT_EQ(body, bodies[0]);
  EXPECT_EQ(store_->list({.order_id = 63}, {}).total, 1);
}

TEST_F(IdempotentTest, AFailureIsNotRememberedSoTheKeyCanBeRetried) {
  auto existing = post("key-4a", R"({"order_id":64,"amount":5})");
  create_once(existing);
  auto req = post("key-4b", R"({"order_id":64,"amount":5})");
  EXPECT_THROW(create_once(req), PaymentConflict);  // the order already has a live payment
  EXPECT_FALSE(replay(*pool_, idempotent_request(req, true)));
}

TEST_F(IdempotentTest, WithoutAKeyEveryRequestRuns) {
  http::Request req;
  req.method = "POST";
  req.body = R"({"order_id":65,"amount":5})";
  EXPECT_FALSE(idempotent_request(req, true).key);
  EXPECT_FALSE(replay(*pool_, idempotent_request(req, true)));
  create_once(req);
  EXPECT_THROW(create_once(req), PaymentConflict);
}

// DESIGN §3: keys are kept at least 24 hours. The prune takes only keys past 48 h: a repeat
// a day and more later still gets the first payment, not a second one.
TEST_F(IdempotentTest, AKeyIsKeptPastADayAndPrunedOnlyAfterTwo) {
  static constexpr sales::pg::Statement kAge{"test_idem_age",
                                             "UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $2::int) "
                                             "WHERE key = $1"};
  auto day_old = post("key-5a", R"({"order_id":66,"amount":5})");
  auto expired = post("key-5b", R"({"order_id":67,"amount":5})");
  auto first = create_once(day_old);
  create_once(expired);
  ASSERT_EQ(sales::pg::exec(*pool_, kAge, {sales::pg::param("key-5a"), sales::pg::param(std::int64_t{47})}).affected(), 1);
  ASSERT_EQ(sales::pg::exec(*pool_, kAge, {sales::pg::param("key-5b"), sales::pg::param(std::int64_t{49})}).affected(), 1);
  sales::service::prune_idempotency_keys(*pool_);

  auto again = replay(*pool_, idempotent_request(day_old, true));
  ASSERT_TRUE(again) << "a 47-hour-old key was pruned";
  EXPECT_EQ(again->body, first.body);
  EXPECT_EQ(create_once(day_old).body, first.body);
  EXPECT_EQ(store_->list({.order_id = 66}, {}).total, 1) << "a repeat a day later made a second payment";
  EXPECT_FALSE(replay(*pool_, idempotent_request(expired, true))) << "a 49-hour-old key is kept";
}

TEST_F(IdempotentTest, AMalformedKeyIs400) {
  for (std::string bad : {std::string(""), std::string(256, 'k'), std::string("tab\tkey")}) {
    try {
      idempotent_request(post(bad, "{}"), true);
      ADD_FAILURE() << "accepted key '" << bad << "'";
    } catch (const sales::ProblemError& e) {
      EXPECT_EQ(e.problem().status, 400);
    }
  }
}

}  // namespace
}  // namespace payment

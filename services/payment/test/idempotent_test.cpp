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

constexpr const char* kPost = "POST /payments";  // the route POST /payments names

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
    return run_once(*pool_, idempotent_request(req, kPost, true), [&](pg::Transaction& tx) {
      if (runs) ++*runs;
      auto p = create_payment(tx, wanted);
      return http::created(render(p), "/payments/" + std::to_string(p.id));
    });
  }
};

TEST_F(IdempotentTest, ARepeatGetsTheFirstResponseWithoutASecondPayment) {
  auto req = post("key-1", R"({"order_id":60,"amount":5})");
  EXPECT_FALSE(replay(*pool_, idempotent_request(req, kPost, true)));
  auto first = create_once(req);
  EXPECT_EQ(first.status, 201);

  auto again = replay(*pool_, idempotent_request(req, kPost, true));
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
      replay(*pool_, idempotent_request(other, kPost, true));
      ADD_FAILURE() << "accepted " << other.body;
    } catch (const sales::ProblemError& e) {
      EXPECT_EQ(e.problem().status, 422);
    }
  }
  auto confirm = post("key-2", "");
  confirm.method = "PUT";
  confirm.target = "/payments/1/confirm";
  EXPECT_THROW(replay(*pool_, idempotent_request(confirm, "PUT /payments/1/confirm", false)), sales::ProblemError);
}

// A client's retry may serialise the body afresh: the same values in another key order,
// spacing or number spelling are the same request (as Stripe compares parameters, not bytes).
TEST_F(IdempotentTest, ARepeatIsTheSameRequestByItsValuesNotItsBytes) {
  auto first = create_once(post("key-7", R"({"order_id":70,"amount":5.00})"));
  for (const char* body : {R"({"amount":5,"order_id":70})", R"( { "order_id" : 70 , "amount" : 5.0 } )",
                           R"({"order_id":7e1,"amount":500e-2})"}) {
    auto again = replay(*pool_, idempotent_request(post("key-7", body), kPost, true));
    ASSERT_TRUE(again) << body;
    EXPECT_EQ(again->body, first.body) << body;
  }
  EXPECT_THROW(replay(*pool_, idempotent_request(post("key-7", R"({"order_id":70,"amount":5.01})"), kPost, true)),
               sales::ProblemError);
  EXPECT_EQ(store_->list({.order_id = 70}, {}).total, 1);
}

// Keys stored before requests were compared by their values hold the hash of their bytes
// (kept 48 h): a byte-identical repeat of such a request still gets its first answer.
TEST_F(IdempotentTest, AKeyStoredByTheBytesOfItsRequestStillAnswersItsRepeat) {
  static constexpr sales::pg::Statement kStoredByBytes{
      "test_idem_by_bytes",
      "INSERT INTO idempotency_keys (scope, key, request_hash, status, body) VALUES ('payments', $1, md5($2), 201, $3)"};
  const std::string body = R"({ "order_id": 71, "amount": 5 })";
  sales::pg::exec(*pool_, kStoredByBytes, {sales::pg::param("key-8"), sales::pg::param("POST /payments\n" + body),
                                           sales::pg::param(R"({"id":99})")});
  auto again = replay(*pool_, idempotent_request(post("key-8", body), kPost, true));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, R"({"id":99})");
  EXPECT_THROW(replay(*pool_, idempotent_request(post("key-8", R"({"order_id":71,"amount":6})"), kPost, true)),
               sales::ProblemError);
  // Images 714cbc3 to 759c3bc stored the canonical form's hash in request_hash.
  sales::pg::exec(*pool_, kStoredByBytes, {sales::pg::param("key-8b"), sales::pg::param(R"(POST /payments
{"amount":5,"order_id":74})"), sales::pg::param(R"({"id":98})")});
  auto canonical_then = replay(*pool_, idempotent_request(post("key-8b", R"({ "order_id": 74, "amount": 5.00 })"), kPost, true));
  ASSERT_TRUE(canonical_then);
  EXPECT_EQ(canonical_then->body, R"({"id":98})");
}

// In a rolling update (or after a rollback) a repeat may reach a replica of the version
// before, which compares request_hash with the hash of the request's bytes: a key stored
// now keeps that hash, so such a replica still answers a byte-identical repeat.
TEST_F(IdempotentTest, AKeyStoredNowStillMatchesTheBytesAnOlderVersionCompares) {
  static constexpr sales::pg::Statement kByBytes{
      "test_idem_bytes_match",
      "SELECT request_hash = md5($2), request_canonical_hash IS NOT NULL FROM idempotency_keys WHERE key = $1"};
  const std::string body = R"({ "order_id": 73, "amount": 5 })";
  create_once(post("key-10", body));
  auto r = sales::pg::exec(*pool_, kByBytes, {sales::pg::param("key-10"), sales::pg::param("POST /payments\n" + body)});
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.text(0, 0), "t") << "an older replica would answer 422 to a byte-identical repeat";
  EXPECT_EQ(r.text(0, 1), "t");
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
  EXPECT_FALSE(replay(*pool_, idempotent_request(req, kPost, true)));
}

TEST_F(IdempotentTest, WithoutAKeyEveryRequestRuns) {
  http::Request req;
  req.method = "POST";
  req.body = R"({"order_id":65,"amount":5})";
  EXPECT_FALSE(idempotent_request(req, kPost, true).key);
  EXPECT_FALSE(replay(*pool_, idempotent_request(req, kPost, true)));
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

  auto again = replay(*pool_, idempotent_request(day_old, kPost, true));
  ASSERT_TRUE(again) << "a 47-hour-old key was pruned";
  EXPECT_EQ(again->body, first.body);
  EXPECT_EQ(create_once(day_old).body, first.body);
  EXPECT_EQ(store_->list({.order_id = 66}, {}).total, 1) << "a repeat a day later made a second payment";
  EXPECT_FALSE(replay(*pool_, idempotent_request(expired, kPost, true))) << "a 49-hour-old key is kept";
}

TEST_F(IdempotentTest, AMalformedKeyIs400) {
  for (std::string bad : {std::string(""), std::string(256, 'k'), std::string("tab\tkey")}) {
    try {
      idempotent_request(post(bad, "{}"), kPost, true);
      ADD_FAILURE() << "accepted key '" << bad << "'";
    } catch (const sales::ProblemError& e) {
      EXPECT_EQ(e.problem().status, 400);
    }
  }
}

// Two keys on one request: which one did the client mean? Taking either could make a
// second payment on a retry that sends the other.
TEST_F(IdempotentTest, TwoKeysOnOneRequestAre400) {
  auto req = post("key-9a", R"({"order_id":72,"amount":5})");
  req.headers.add("idempotency-key", "key-9b");
  try {
    idempotent_request(req, kPost, true);
    ADD_FAILURE() << "accepted two keys";
  } catch (const sales::ProblemError& e) {
    EXPECT_EQ(e.problem().status, 400);
    ASSERT_EQ(e.problem().errors.size(), 1u);
    EXPECT_EQ(e.problem().errors[0].field, "Idempotency-Key");
  }
}

}  // namespace
}  // namespace payment

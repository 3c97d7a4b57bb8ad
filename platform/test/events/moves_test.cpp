// Moving dead letters back to their queue (sales-dlq requeue), against the real RabbitMQ and
// PostgreSQL: an event dead-lettered while its cause lasted is handled once it is gone.
#include "sales/events/moves.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fixture.hpp"
#include "sales/amqp/topology.hpp"
#include "sales_test/tcp_proxy.hpp"

namespace sales::events {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

class MovesTest : public testing::EffectsTest {
 protected:
  // Puts `n` messages straight into the DLQ, as the consumer leaves them there.
  std::vector<std::string> dead_letters(int n) {
    amqp::Connection conn(params_);
    conn.connect();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(new_uuid());
      amqp::OutgoingMessage m;
      m.routing_key = amqp::dead_letter_queue(queue_);
      m.message_id = ids.back();
      m.type = "order.created";
      m.body = serialize(ids.back(), "order.created", now_rfc3339(), "corr", "{}");
      m.headers[std::string(kRequestIdHeader)] = std::string("req-" + suffix_);
      m.headers["traceparent"] = std::string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
      m.headers[std::string(kAttemptsHeader)] = std::int64_t{5};
      m.headers[std::string(kDeadLetterReasonHeader)] = std::string("a bug, fixed since");
      m.headers[std::string(kDeadLetterQueueHeader)] = queue_;
      conn.publish(m);
    }
    conn.wait_for_confirms(5s);
    return ids;
  }

  void declare() {
    amqp::Connection conn(params_);
    conn.connect();
    amqp::declare_consumer_topology(conn, queue_, {"order.created"}, topology_);
  }

  std::size_t requeue(std::size_t max) {
    amqp::Connection conn(params_);
    conn.connect();
    return requeue_dead_letters(conn, queue_, max, 5s);
  }
};

TEST_F(MovesTest, RequeueMovesAtMostNWithTheirIdAndTraceAndNoAttempts) {
  declare();
  auto ids = dead_letters(3);
  ASSERT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 3; }));
  {
    amqp::Connection conn(params_);
    conn.connect();
    auto counts = count_dead_letters(conn, {queue_, "test_never_declared_" + suffix_});
    ASSERT_EQ(counts.size(), 2u);
    EXPECT_EQ(counts[0].queue, queue_);
    EXPECT_EQ(counts[0].messages, 3u);
    EXPECT_FALSE(counts[1].messages) << "a DLQ not declared yet does not end the list";
  }

  EXPECT_EQ(requeue(2), 2u);
  EXPECT_TRUE(eventually([&] { return ready_in(queue_) == 2 && ready_in(amqp::dead_letter_queue(queue_)) == 1; }));
  amqp::Connection conn(params_);
  conn.connect();
  auto moved = testing::drain(conn, queue_, 2);
  ASSERT_EQ(moved.size(), 2u);
  for (std::size_t i = 0; i < moved.size(); ++i) {
    EXPECT_EQ(moved[i].message_id, ids[i]) << "in the DLQ's order, under the same id";
    EXPECT_EQ(parse(moved[i].body).id, ids[i]);
    EXPECT_EQ(moved[i].type, "order.created");
    EXPECT_EQ(moved[i].header_int(std::string(kAttemptsHeader)), 0) << "a fresh set of attempts";
    EXPECT_FALSE(moved[i].header_string(std::string(kDeadLetterReasonHeader)));
    EXPECT_FALSE(moved[i].header_string(std::string(kDeadLetterQueueHeader)));
    EXPECT_EQ(moved[i].header_string(std::string(kRequestIdHeader)), "req-" + suffix_);
    EXPECT_TRUE(moved[i].header_string("traceparent"));
    EXPECT_TRUE(moved[i].persistent);
  }
  EXPECT_EQ(requeue(100), 1u) << "no more than the DLQ holds";
  EXPECT_EQ(requeue(100), 0u);
}

TEST_F(MovesTest, NothingMovesWhenTheQueueIsGone) {
  declare();
  dead_letters(1);
  ASSERT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 1; }));
  {
    amqp::Connection conn(params_);
    conn.connect();
    conn.delete_queue(queue_);
  }
  EXPECT_THROW(requeue(10), amqp::AmqpError);
  EXPECT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 1; })) << "the message stays";
}

// The operator's case: an event failed until its retries ran out (a handler's bug, fixed
// since), and is handled once moved back, exactly once.
TEST_F(MovesTest, AnEventDeadLetteredWhileItsCauseLastedIsHandledOnceMovedBack) {
  std::atomic<bool> broken{true};
  std::atomic<int> failed_before{-1};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    if (broken) throw std::runtime_error("a bug, fixed since");
    failed_before = e.failed_attempts;
    record(tx, e);
  });
  auto consumer = start(std::move(d), options());
  std::string id = publish_event("order.created");
  ASSERT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 1; }));
  EXPECT_EQ(effects(id), 0);

  broken = false;
  EXPECT_EQ(requeue(SIZE_MAX), 1u);
  ASSERT_TRUE(eventually([&] { return effects(id) == 1; }));
  EXPECT_EQ(failed_before.load(), 0);
  EXPECT_EQ(ready_in(amqp::dead_letter_queue(queue_)), 0u);
  EXPECT_EQ(requeue(SIZE_MAX), 0u);
  EXPECT_EQ(effects(id), 1);
}

// sales-dlq's connection (connect_within): the broker reached through a proxy that closes
// every session at once until allowed.
class ConnectWithinTest : public testing::EffectsTest {
 protected:
  // params_ through `proxy`, which closes every session at once until proxy.allow().
  amqp::ConnectionParams refused_until_allowed(testing::TcpProxy& proxy) {
    proxy.cut(/*refuse=*/true);
    amqp::ConnectionParams via = params_;
    via.host = "127.0.0.1";
    via.port = proxy.port();
    return via;
  }
};

// A one-off command (sales-dlq) waits a moment for a broker it cannot reach yet: here every
// session is closed at once until the proxy lets them through, 0.6 s after the first try.
TEST_F(ConnectWithinTest, TriesAgainUntilTheBrokerAnswers) {
  testing::TcpProxy proxy(params_.host, params_.port);
  amqp::Connection conn(refused_until_allowed(proxy));
  const auto began = std::chrono::steady_clock::now();
  std::thread let_through([&] {
    std::this_thread::sleep_for(600ms);
    proxy.allow();
  });
  EXPECT_NO_THROW(connect_within(conn, 10s));
  let_through.join();
  EXPECT_TRUE(conn.is_open());
  EXPECT_GE(std::chrono::steady_clock::now() - began, 600ms);
}

// ...and gives up once its patience is spent, with the last failure; a refusal by the broker
// itself (bad credentials) is not tried again.
TEST_F(ConnectWithinTest, GivesUpAfterItsPatienceAndAtOnceOnARefusal) {
  testing::TcpProxy proxy(params_.host, params_.port);
  amqp::Connection unreachable(refused_until_allowed(proxy));
  auto began = std::chrono::steady_clock::now();
  EXPECT_THROW(connect_within(unreachable, 800ms), amqp::AmqpError);
  auto waited = std::chrono::steady_clock::now() - began;
  EXPECT_GE(waited, 300ms) << "not tried again";
  EXPECT_LT(waited, 5s);

  amqp::ConnectionParams wrong = params_;
  wrong.password = "definitely-not-" + suffix_;
  amqp::Connection refused(wrong);
  began = std::chrono::steady_clock::now();
  try {
    connect_within(refused, 10s);
    ADD_FAILURE() << "a wrong password connected";
  } catch (const amqp::AmqpError& e) {
    EXPECT_NE(e.reply_code(), 0) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s) << "a refusal was tried again";
}

}  // namespace
}  // namespace sales::events

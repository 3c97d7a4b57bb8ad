// Integration tests of the rabbitmq-c wrapper against the real broker of `./sales up`.
#include "sales/amqp/connection.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sales/amqp/topology.hpp"
#include "test_env.hpp"

namespace sales::amqp {
namespace {

using namespace std::chrono_literals;
using testing::drain;
using testing::eventually;

class AmqpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    auto p = testing::amqp_params_from_env(missing);
    if (!p) GTEST_FAIL() << missing << testing::kRunViaSalesTest;
    params_ = *p;
    suffix_ = testing::random_suffix();
    topology_ = testing::unique_topology(suffix_);
    queue_ = "test_q_" + suffix_;
    cleanup_ = std::make_unique<testing::TopologyCleanup>(params_, topology_);
    cleanup_->add_queue(queue_);
  }

  // <queue_>.retry as versions before the quorum one declared it.
  QueueOptions classic_retry_options() const {
    QueueOptions o;
    o.dead_letter_exchange = "";
    o.dead_letter_routing_key = queue_;
    return o;
  }

  // A message to the test's events exchange.
  OutgoingMessage event(std::string routing_key, std::string body) const {
    OutgoingMessage m;
    m.exchange = topology_.events_exchange;
    m.routing_key = std::move(routing_key);
    m.body = std::move(body);
    return m;
  }

  ConnectionParams params_;
  std::string suffix_;
  Topology topology_;
  std::string queue_;
  std::unique_ptr<testing::TopologyCleanup> cleanup_;
};

TEST_F(AmqpTest, PublishAndConsumeRoundTripWithConfirmsAndHeaders) {
  Connection pub(params_);
  pub.connect();
  declare_consumer_topology(pub, queue_, {"order.created"}, topology_);

  OutgoingMessage msg;
  msg.exchange = topology_.events_exchange;
  msg.routing_key = "order.created";
  msg.body = R"({"hello":"world"})";
  msg.message_id = "3f0c1c7e-0000-4000-8000-000000000001";
  msg.type = "order.created";
  msg.correlation_id = "order-42";
  msg.headers["traceparent"] = std::string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  msg.headers["x-request-id"] = std::string("req-1");
  msg.headers["x-attempts"] = std::int64_t{3};
  pub.publish(msg);
  OutgoingMessage other = msg;
  other.routing_key = "order.cancelled";  // not bound: the exchange drops it, still acked
  pub.publish(other);
  EXPECT_EQ(pub.unconfirmed(), 2u);
  pub.wait_for_confirms(5s);
  EXPECT_EQ(pub.unconfirmed(), 0u);

  Connection sub(params_);
  sub.connect();
  auto got = drain(sub, queue_, 1);
  ASSERT_EQ(got.size(), 1u);
  const Delivery& d = got[0];
  EXPECT_EQ(d.body, msg.body);
  EXPECT_EQ(d.message_id, msg.message_id);
  EXPECT_EQ(d.type, "order.created");
  EXPECT_EQ(d.correlation_id, "order-42");
  EXPECT_EQ(d.content_type, "application/json");
  EXPECT_EQ(d.exchange, topology_.events_exchange);
  EXPECT_EQ(d.routing_key, "order.created");
  EXPECT_EQ(d.header_string("traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(d.header_string("x-request-id"), "req-1");
  EXPECT_EQ(d.header_int("x-attempts"), 3);
  EXPECT_FALSE(d.header_int("absent").has_value());
  EXPECT_FALSE(sub.next_delivery(300ms).has_value());  // the unbound one never arrived
}

// We offer the broker 16 KiB frames (connection.cpp): a body larger than even rabbitmq-c's
// default 128 KiB goes as many body frames and arrives whole, byte for byte.
TEST_F(AmqpTest, ABodyLargerThanAFrameArrivesWhole) {
  Connection conn(params_);
  conn.connect();
  EXPECT_EQ(conn.frame_max(), 16 * 1024);
  declare_consumer_topology(conn, queue_, {"big.#"}, topology_);
  std::string body;
  for (int i = 0; body.size() < 300 * 1024; ++i) body += std::to_string(i) + ",";
  conn.publish(event("big.one", body));
  conn.publish(event("big.two", "small after big"));
  conn.wait_for_confirms(5s);
  auto got = drain(conn, queue_, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body.size(), body.size());
  EXPECT_TRUE(got[0].body == body);
  EXPECT_EQ(got[1].body, "small after big");
}

TEST_F(AmqpTest, TheSocketGivesUpOnAHostThatStopsAnswering) {
  params_.tcp_user_timeout = 7000ms;
  Connection conn(params_);
  conn.connect();
  const int fd = conn.socket_fd();
  ASSERT_GE(fd, 0);
  auto option = [fd](int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    EXPECT_EQ(::getsockopt(fd, level, name, &v, &len), 0);
    return v;
  };
  EXPECT_EQ(option(IPPROTO_TCP, TCP_USER_TIMEOUT), 7000) << "an unacknowledged publish would wait ~15 minutes";
  EXPECT_EQ(option(SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPIDLE), 5);
  conn.close();
  EXPECT_EQ(conn.socket_fd(), -1);
}

TEST_F(AmqpTest, BatchOfPublishesNeedsOneConfirmWait) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"batch.#"}, topology_);
  for (int i = 0; i < 500; ++i) {
    conn.publish(event("batch.item", std::to_string(i)));
  }
  conn.wait_for_confirms(10s);
  EXPECT_EQ(conn.unconfirmed(), 0u);
  EXPECT_TRUE(eventually([&] { return conn.queue_message_count(queue_) == 500; }));
}

// A session dropped between a publish and its confirm wait (another call's failure, caught)
// leaves nothing to wait for: the wait fails rather than report the message delivered.
TEST_F(AmqpTest, AConfirmWaitAfterTheSessionWasDroppedFails) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"dropped.#"}, topology_);
  auto m = event("dropped.item", "x");
  conn.publish(m);
  conn.close();
  EXPECT_THROW(conn.wait_for_confirms(1s), AmqpError);
  conn.connect();
  conn.publish(m);
  EXPECT_NO_THROW(conn.wait_for_confirms(10s));
}

TEST_F(AmqpTest, RejectWithoutRequeueLandsInDeadLetterQueue) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"order.created"}, topology_);
  conn.publish(event("order.created", "not even json"));
  conn.wait_for_confirms(5s);

  conn.consume(queue_, 10);
  auto d = conn.next_delivery(5s);
  ASSERT_TRUE(d.has_value());
  conn.reject(d->delivery_tag, false);
  EXPECT_TRUE(eventually([&] { return conn.queue_message_count(dead_letter_queue(queue_)) == 1; }));
  EXPECT_EQ(conn.queue_message_count(queue_), 0u);
}

TEST_F(AmqpTest, RetryQueueReturnsMessageToItsQueueAfterTheDelay) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"order.created"}, topology_);
  OutgoingMessage m;
  m.exchange = "";  // default exchange, straight to the retry queue
  m.routing_key = retry_queue(queue_);
  m.body = "again";
  m.expiration = 100ms;
  m.headers["x-attempts"] = std::int64_t{1};
  conn.publish(m);
  conn.wait_for_confirms(5s);

  auto got = drain(conn, queue_, 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "again");
  EXPECT_EQ(got[0].header_int("x-attempts"), 1);
  EXPECT_EQ(conn.queue_message_count(retry_queue(queue_)), 0u);
}

TEST_F(AmqpTest, TheRetryQueueIsAQuorumQueueThatDeadLettersAtLeastOnce) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"order.created"}, topology_);
  // A queue that exists refuses a declaration with other arguments: the classic one
  // (RabbitMQ's at-most-once dead-lettering) is refused, the same arguments pass.
  const QueueOptions classic = classic_retry_options();
  try {
    conn.declare_queue(retry_queue(queue_), classic);
    ADD_FAILURE() << retry_queue(queue_) << " accepted a classic declaration";
  } catch (const AmqpError& e) {
    EXPECT_EQ(e.reply_code(), 406) << e.what();
  }
  QueueOptions same = classic;
  same.quorum_at_least_once = true;
  EXPECT_NO_THROW(conn.declare_queue(retry_queue(queue_), same));
}

TEST_F(AmqpTest, AnEarlierVersionsClassicRetryQueueIsKeptAndStillDelays) {
  Connection conn(params_);
  conn.connect();
  conn.declare_queue(retry_queue(queue_), classic_retry_options());
  EXPECT_NO_THROW(declare_consumer_topology(conn, queue_, {"order.created"}, topology_))
      << "a service must start on a broker an earlier version set up";

  OutgoingMessage m;
  m.exchange = "";
  m.routing_key = retry_queue(queue_);
  m.body = "later";
  m.expiration = 100ms;
  conn.publish(m);
  conn.wait_for_confirms(5s);
  auto got = drain(conn, queue_, 1, 5s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "later");
}

TEST_F(AmqpTest, AMandatoryMessageNoQueueTakesFailsItsConfirmWait) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"order.created"}, topology_);
  OutgoingMessage m;
  m.exchange = "";
  m.routing_key = queue_ + ".nowhere";  // no such queue
  m.body = "lost?";
  m.mandatory = true;
  conn.publish(m);
  try {
    conn.wait_for_confirms(5s);
    ADD_FAILURE() << "an unroutable mandatory message was taken as delivered";
  } catch (const AmqpError& e) {
    EXPECT_NE(std::string(e.what()).find("returned 1"), std::string::npos) << e.what();
  }
  // The session carries on, and a routable one is confirmed as usual.
  m.routing_key = queue_;
  conn.publish(m);
  EXPECT_NO_THROW(conn.wait_for_confirms(5s));
  m.mandatory = false;
  m.routing_key = queue_ + ".nowhere";
  conn.publish(m);
  EXPECT_NO_THROW(conn.wait_for_confirms(5s)) << "without mandatory the broker drops it silently";
}

TEST_F(AmqpTest, MissingQueueIsA404AndTheConnectionCarriesOn) {
  Connection conn(params_);
  conn.connect();
  try {
    (void)conn.queue_message_count("no_such_queue_" + suffix_);
    FAIL() << "expected AmqpError";
  } catch (const AmqpError& e) {
    EXPECT_EQ(e.reply_code(), 404);
  }
  EXPECT_TRUE(conn.is_open());
  declare_consumer_topology(conn, queue_, {"x"}, topology_);  // reopens the aux channel
  EXPECT_EQ(conn.queue_message_count(queue_), 0u);
}

TEST_F(AmqpTest, RedeclaringWithOtherArgumentsFailsWithoutClosingTheSession) {
  Connection conn(params_);
  conn.connect();
  declare_consumer_topology(conn, queue_, {"x"}, topology_);
  QueueOptions different;  // no dead-letter arguments
  try {
    conn.declare_queue(queue_, different);
    FAIL() << "expected AmqpError";
  } catch (const AmqpError& e) {
    EXPECT_EQ(e.reply_code(), 406);
  }
  EXPECT_TRUE(conn.is_open());
  OutgoingMessage m;
  m.exchange = topology_.events_exchange;
  m.routing_key = "x";
  m.body = "{}";
  conn.publish(m);
  conn.wait_for_confirms(5s);  // channel 1 is unaffected
}

TEST_F(AmqpTest, PublishingToAMissingExchangeIsAnError) {
  Connection conn(params_);
  conn.connect();
  OutgoingMessage m;
  m.exchange = "no.such.exchange." + suffix_;
  m.routing_key = "x";
  m.body = "{}";
  conn.publish(m);
  EXPECT_THROW(conn.wait_for_confirms(5s), AmqpError);
  EXPECT_FALSE(conn.is_open());  // the caller reconnects
  conn.connect();
  EXPECT_TRUE(conn.is_open());
}

TEST_F(AmqpTest, ConnectFailuresAreAmqpErrors) {
  ConnectionParams wrong = params_;
  wrong.password = "definitely-not-" + suffix_;
  Connection bad_login(wrong);
  EXPECT_THROW(bad_login.connect(), AmqpError);
  EXPECT_FALSE(bad_login.is_open());

  ConnectionParams closed = params_;
  closed.host = "127.0.0.1";
  closed.port = 1;  // nothing listens there
  closed.connect_timeout = 1000ms;
  Connection nowhere(closed);
  EXPECT_THROW(nowhere.connect(), AmqpError);
  EXPECT_THROW(nowhere.publish(OutgoingMessage{}), AmqpError);
}

}  // namespace
}  // namespace sales::amqp

// The consumer when the broker or the database goes away under it: each is reached
// through a TcpProxy the test cuts, so the shared servers and other sessions are untouched.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fixture.hpp"
#include "sales/events/consumer.hpp"
#include "sales_test/tcp_proxy.hpp"

namespace sales::events {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

class ConsumerRecoveryTest : public testing::EffectsTest {
 protected:
  ConsumerOptions options() {
    auto o = EffectsTest::options();
    o.backoff_max = 300ms;
    return o;
  }
};

TEST_F(ConsumerRecoveryTest, AMessageCommittedButNotAckedIsRedeliveredAndDeduped) {
  testing::TcpProxy broker(params_.host, params_.port);
  amqp::ConnectionParams via_proxy = params_;
  via_proxy.host = "127.0.0.1";
  via_proxy.port = broker.port();

  std::atomic<int> calls{0};
  std::atomic<bool> cut{false};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);
    if (++calls == 1) {
      broker.cut();  // the broker connection dies before this message can be acked
      cut = true;
    }
  });
  Consumer consumer(*pool_, via_proxy, options(), std::move(d), registry_);
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }));

  std::string id = publish_event("order.created");
  ASSERT_TRUE(eventually([&] { return by_queue("sales_events_duplicates_total") == 1; }, 15s))
      << "the unacked message should come back and be recognised";
  EXPECT_TRUE(cut.load());
  EXPECT_EQ(effects(id), 1);
  EXPECT_EQ(by_queue("sales_events_consumed_total"), 1u);
  EXPECT_TRUE(consumer.connected());
}

// A queue deleted under its consumer (an operator's mistake, a lost node): the broker tells
// the consumer (consumer_cancel_notify), which reconnects and declares its queue and bindings
// again at once, so events published from then on are applied; before, it went on waiting
// until its lag check (every 5 s) found the queue gone, and events meanwhile found no queue.
TEST_F(ConsumerRecoveryTest, AQueueDeletedUnderItsConsumerIsDeclaredAgainAndConsumed) {
  auto told = options();
  told.lag_refresh = std::chrono::minutes(10);  // its lag check would find the queue gone, later
  Consumer consumer(*pool_, params_, told, Dispatcher{}.on("order.created", record), registry_);
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }));
  {
    amqp::Connection conn(params_);
    conn.connect();
    conn.delete_queue(queue_);
  }
  auto queue_is_there = [&] {
    try {
      ready_in(queue_);
      return true;
    } catch (const amqp::AmqpError&) {
      return false;
    }
  };
  ASSERT_TRUE(eventually(queue_is_there, 15s, 100ms)) << "the consumer should declare its queue again";
  std::string id = publish_event("order.created");
  EXPECT_TRUE(eventually([&] { return effects(id) == 1; }, 15s));
  EXPECT_TRUE(eventually([&] { return consumer.connected(); }));
}

TEST_F(ConsumerRecoveryTest, ADatabaseOutageSpendsNoAttemptsAndEndsWithTheEffectApplied) {
  testing::TcpProxy database(sales_test::TestSchema::server_host(), sales_test::TestSchema::server_port());
  pg::PoolOptions via_proxy;
  via_proxy.conninfo = schema_->conninfo_via(database.port());
  via_proxy.size = 2;
  via_proxy.acquire_timeout = 500ms;
  pg::Pool proxied(via_proxy);

  Consumer consumer(proxied, params_, options(), Dispatcher{}.on("order.created", record), registry_);
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }));
  std::string first = publish_event("order.created");
  ASSERT_TRUE(eventually([&] { return effects(first) == 1; }));

  database.cut(/*refuse=*/true);
  std::string second = publish_event("order.created");
  ASSERT_TRUE(eventually([&] { return !consumer.connected(); })) << "the consumer should step back while the DB is down";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(effects(second), 0);
  EXPECT_EQ(by_queue("sales_events_retried_total"), 0u) << "an outage is not the message's fault";
  EXPECT_EQ(counter("sales_events_dead_lettered_total", {{"queue", queue_}, {"reason", "exhausted"}}), 0u);

  database.allow();
  ASSERT_TRUE(eventually([&] { return effects(second) == 1; }, 15s));
  EXPECT_TRUE(eventually([&] { return consumer.connected(); }));
}

}  // namespace
}  // namespace sales::events

// The outbox relay against the real PostgreSQL and RabbitMQ.
#include "sales/events/relay.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "fixture.hpp"
#include "sales_test/tcp_proxy.hpp"

namespace sales::events {
namespace {

using namespace std::chrono_literals;
using testing::drain;
using testing::eventually;

class RelayTest : public testing::EventsTest {
 protected:
  RelayOptions options() {
    RelayOptions o;
    o.topology = topology_;
    o.declare = {{queue_, {"#"}}};  // the test queue receives every event type
    o.backoff_initial = 50ms;
    o.backoff_max = 500ms;
    o.backlog_refresh = 100ms;
    return o;
  }

  std::vector<std::string> enqueue_committed(int n, const std::string& type = "order.created") {
    std::vector<std::string> ids;
    pg::Transaction tx(*pool_);
    for (int i = 0; i < n; ++i) ids.push_back(enqueue(tx, type, R"({"i":)" + std::to_string(i) + "}", "", {"", "req-r"}));
    tx.commit();
    return ids;
  }

  // Consumes until `ids` have all arrived (duplicates allowed) or 15 s pass.
  std::multiset<std::string> receive(amqp::Connection& sub, const std::vector<std::string>& ids) {
    std::multiset<std::string> got;
    std::set<std::string> want(ids.begin(), ids.end());
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = std::all_of(want.begin(), want.end(), [&](const auto& id) { return got.contains(id); });
      if (all) break;
      if (auto d = sub.next_delivery(100ms)) {
        sub.ack(d->delivery_tag);
        got.insert(parse(d->body).id);
      }
    }
    return got;
  }
};

TEST_F(RelayTest, PublishesExactlyTheCommittedEvents) {
  auto committed = enqueue_committed(3);
  {
    pg::Transaction tx(*pool_);
    enqueue(tx, "order.created", R"({"rolled":"back"})");
  }  // rolled back

  OutboxRelay relay(schema_->conninfo(), params_, options(), registry_);
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.connected(); }));

  amqp::Connection sub(params_);
  sub.connect();
  auto got = drain(sub, queue_, 3);
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    Envelope e = parse(got[i].body);
    EXPECT_EQ(e.id, committed[i]) << "published in commit order";
    EXPECT_EQ(got[i].message_id, e.id);
    EXPECT_EQ(got[i].type, "order.created");
    EXPECT_EQ(got[i].routing_key, "order.created");
    EXPECT_EQ(got[i].header_string("x-request-id"), "req-r");
  }
  EXPECT_FALSE(sub.next_delivery(500ms).has_value()) << "the rolled-back event was published";
  EXPECT_TRUE(eventually([&] { return testing::outbox_rows(*pool_) == 0; }));
  EXPECT_EQ(counter("sales_outbox_published_total"), 3u);
  EXPECT_TRUE(eventually([&] { return registry_.gauge("sales_outbox_backlog", "").value() == 0; }));
  relay.stop();
  EXPECT_FALSE(relay.connected());
}

// A queue removed while the relay is connected (an operator, a broker restored from an
// older definition): an event of a type the relay declares a queue for is published
// mandatory, so the broker returns it instead of dropping it; the batch stays in the outbox,
// and the relay's next connection declares the queue again and delivers it.
TEST_F(RelayTest, AnEventNoQueueTookStaysInTheOutboxUntilItsQueueIsBack) {
  RelayOptions o = options();
  o.declare = {{queue_, {"order.created"}}};  // a type named exactly: published mandatory
  OutboxRelay relay(schema_->conninfo(), params_, o, registry_);
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.connected(); }));
  {
    amqp::Connection admin(params_);
    admin.connect();
    admin.delete_queue(queue_);
  }
  auto ids = enqueue_committed(1);
  amqp::Connection sub(params_);
  sub.connect();
  // The relay declares the queue again on its next connection; until then it does not exist
  // (a passive declare of it fails on the side channel only).
  ASSERT_TRUE(eventually([&] {
    try {
      return sub.queue_message_count(queue_) >= 1;
    } catch (const amqp::AmqpError&) {
      if (!sub.is_open()) sub.connect();
      return false;
    }
  })) << "the event never reached its queue";
  auto got = drain(sub, queue_, 1);
  ASSERT_EQ(got.size(), 1u) << "the event was dropped as unroutable";
  EXPECT_EQ(parse(got[0].body).id, ids[0]);
  EXPECT_TRUE(eventually([&] { return testing::outbox_rows(*pool_) == 0; }));
  EXPECT_EQ(counter("sales_outbox_published_total"), 1u) << "counted once, when a queue took it";
  EXPECT_GE(counter("sales_outbox_publish_failures_total"), 1u) << "the returned try counts as a failure";
  relay.stop();
}

TEST_F(RelayTest, ACommitWakesTheRelayWithoutWaitingForThePoll) {
  RelayOptions o = options();
  o.poll_interval = 10s;  // only the commit's wake-up can make this quick
  OutboxRelay relay(schema_->conninfo(), params_, o, registry_);
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.connected(); }));
  std::this_thread::sleep_for(300ms);  // let it go idle in its wait

  amqp::Connection sub(params_);
  sub.connect();
  sub.consume(queue_, 10);
  auto start = std::chrono::steady_clock::now();
  auto ids = enqueue_committed(1);
  auto d = sub.next_delivery(5s);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(parse(d->body).id, ids[0]);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(RelayTest, TwoRelaysShareTheOutboxWithoutLossOrDuplicates) {
  RelayOptions o = options();
  o.batch_size = 25;
  OutboxRelay a(schema_->conninfo(), params_, o, registry_);
  OutboxRelay b(schema_->conninfo(), params_, o, registry_);
  a.start();
  b.start();
  // Connected means the test queue is declared (consuming it earlier is a 404), and both
  // relays then compete for the rows as they are written.
  ASSERT_TRUE(eventually([&] { return a.connected() && b.connected(); }));

  std::vector<std::string> all;
  std::thread writer([&] {
    for (int round = 0; round < 20; ++round) {
      auto ids = enqueue_committed(40);
      all.insert(all.end(), ids.begin(), ids.end());
    }
  });
  writer.join();

  amqp::Connection sub(params_);
  sub.connect();
  sub.consume(queue_, 200);
  auto got = receive(sub, all);
  // A relay deletes and counts its batch after the broker's confirms, so possibly after
  // the test received it.
  EXPECT_TRUE(eventually([&] { return testing::outbox_rows(*pool_) == 0; }));
  EXPECT_TRUE(eventually([&] { return counter("sales_outbox_published_total") >= all.size(); }));
  EXPECT_EQ(counter("sales_outbox_published_total"), all.size());
  EXPECT_FALSE(sub.next_delivery(500ms).has_value());
  EXPECT_EQ(got.size(), all.size()) << "duplicates are legal after a failure, not in a healthy run ("
                                    << counter("sales_outbox_publish_failures_total") << " failed rounds)";
  for (const auto& id : all) EXPECT_EQ(got.count(id), 1u) << id;
}

TEST_F(RelayTest, SurvivesLosingTheBrokerAndLosesNothing) {
  testing::TcpProxy proxy(params_.host, params_.port);
  amqp::ConnectionParams via_proxy = params_;
  via_proxy.host = "127.0.0.1";
  via_proxy.port = proxy.port();
  OutboxRelay relay(schema_->conninfo(), via_proxy, options(), registry_);
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.connected(); }));

  amqp::Connection sub(params_);  // the test's own connection bypasses the proxy
  sub.connect();
  sub.consume(queue_, 100);
  auto before = enqueue_committed(5);
  EXPECT_EQ(receive(sub, before).size(), 5u);
  // Delivered is not yet deleted: the relay commits after the confirms.
  ASSERT_TRUE(eventually([&] { return testing::outbox_rows(*pool_) == 0; }));

  proxy.cut(/*refuse=*/true);
  auto during = enqueue_committed(5);
  ASSERT_TRUE(eventually([&] { return !relay.connected(); })) << "the relay did not notice the outage";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(testing::outbox_rows(*pool_), 5) << "rows must wait in the outbox during the outage";
  EXPECT_GT(counter("sales_outbox_publish_failures_total"), 0u);
  EXPECT_TRUE(eventually([&] { return registry_.gauge("sales_outbox_backlog", "").value() == 5; }))
      << "the backlog gauge must show what waits while the broker is away";

  proxy.allow();
  ASSERT_TRUE(eventually([&] { return relay.connected(); }, 10s));
  auto got = receive(sub, during);
  for (const auto& id : during) EXPECT_GE(got.count(id), 1u) << id;
  EXPECT_TRUE(eventually([&] { return testing::outbox_rows(*pool_) == 0; }));
  EXPECT_TRUE(eventually([&] { return registry_.gauge("sales_outbox_backlog", "").value() == 0; }));
}

TEST_F(RelayTest, StopsPromptlyWhileTheBrokerIsUnreachable) {
  amqp::ConnectionParams nowhere = params_;
  nowhere.host = "127.0.0.1";
  nowhere.port = 1;
  nowhere.connect_timeout = 500ms;
  RelayOptions o = options();
  o.backoff_initial = 5s;
  o.backoff_max = 5s;
  OutboxRelay relay(schema_->conninfo(), nowhere, o, registry_);
  relay.start();
  ASSERT_TRUE(eventually([&] { return counter("sales_outbox_publish_failures_total") > 0; }));
  EXPECT_FALSE(relay.connected());
  auto start = std::chrono::steady_clock::now();
  relay.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "stop() must cut the backoff short";
}

}  // namespace
}  // namespace sales::events

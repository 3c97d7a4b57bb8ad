// A backlog is applied in batches (one transaction for many events) with the same
// outcome, event by event, as one by one: each applied once, a duplicate without effect,
// and a failing event settled alone — its handler called once per delivery.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fixture.hpp"
#include "sales/events/consumer.hpp"

namespace sales::events {
namespace {

using testing::eventually;

constexpr pg::Statement kTxid{"test_txid", "SELECT txid_current()::text"};

class ConsumerBatchTest : public testing::EffectsTest {};

TEST_F(ConsumerBatchTest, ABacklogIsAppliedInBatchesWithTheOutcomeOfOneByOne) {
  {
    // Declare the queue, then fill it while nobody consumes: the deliveries arrive together.
    Dispatcher both = Dispatcher{}.on("order.created", record).on("order.cancelled", record);
    Consumer declare(*pool_, params_, options(), std::move(both), registry_);
    declare.start();
    ASSERT_TRUE(eventually([&] { return declare.connected(); }));
  }
  std::vector<std::string> good;
  for (int i = 0; i < 5; ++i) good.push_back(publish_event("order.created"));
  const std::string twice = new_uuid();
  publish_event("order.created", "{}", twice);
  publish_event("order.created", "{}", twice);  // the same event again, in the same batch
  const std::string bad = publish_event("order.cancelled");
  for (int i = 0; i < 5; ++i) good.push_back(publish_event("order.created"));

  std::mutex mu;
  std::set<std::string> transactions;  // of the events applied
  std::atomic<int> bad_calls{0};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);
    std::lock_guard lock(mu);
    transactions.insert(tx.exec(kTxid).str(0, 0));
  });
  d.on("order.cancelled", [&](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);  // rolled back with the throw
    ++bad_calls;
    throw std::runtime_error("handler always fails");
  });
  Consumer consumer(*pool_, params_, options(), std::move(d), registry_);
  consumer.start();

  ASSERT_TRUE(eventually([&] { return counter("sales_events_dead_lettered_total",
                                              {{"queue", queue_}, {"reason", "exhausted"}}) == 1; }));
  ASSERT_TRUE(eventually([&] { return by_queue("sales_events_consumed_total") == 11; }));
  for (const auto& id : good) EXPECT_EQ(effects(id), 1) << id;
  EXPECT_EQ(effects(twice), 1);
  EXPECT_EQ(effects(bad), 0);
  EXPECT_EQ(bad_calls.load(), 3) << "one call per delivery: the first, then two retries";
  EXPECT_EQ(by_queue("sales_events_duplicates_total"), 1u);
  // The failing event was moved out of the batch by a publish and a single ack between the
  // batch's multiple-acks: one copy in the DLQ, nothing left behind or delivered again.
  EXPECT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 1; }));
  EXPECT_TRUE(eventually([&] { return ready_in(queue_) == 0; }));
  EXPECT_EQ(by_queue("sales_events_consumed_total") + by_queue("sales_events_duplicates_total"), 12u)
      << "a delivery came again: a settle went wrong and the consumer reconnected";
  std::lock_guard lock(mu);
  EXPECT_LT(transactions.size(), 11u) << "every event had a transaction of its own: no batch formed";
}

// A handler's statement queued with exec_later() fails only when the next statement goes out,
// which may be the next event's: the batch must still blame the event that queued it.
TEST_F(ConsumerBatchTest, AFailingQueuedStatementIsBlamedOnTheEventThatQueuedIt) {
  {
    Dispatcher both = Dispatcher{}.on("order.created", record).on("order.paid", record);
    Consumer declare(*pool_, params_, options(), std::move(both), registry_);
    declare.start();
    ASSERT_TRUE(eventually([&] { return declare.connected(); }));
  }
  const std::string before = publish_event("order.created");
  const std::string bad = publish_event("order.paid");
  const std::string after = publish_event("order.created");

  std::mutex mu;
  std::map<std::string, int> calls;
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    {
      std::lock_guard lock(mu);
      ++calls[e.id];
    }
    record(tx, e);
  });
  d.on("order.paid", [&](pg::Transaction& tx, const Envelope& e) {
    {
      std::lock_guard lock(mu);
      ++calls[e.id];
    }
    tx.exec_later(testing::kRecordEffect, {pg::param(e.id), pg::param(std::nullopt)});  // NOT NULL: fails
  });
  Consumer consumer(*pool_, params_, options(), std::move(d), registry_);
  consumer.start();

  ASSERT_TRUE(eventually([&] { return counter("sales_events_dead_lettered_total",
                                              {{"queue", queue_}, {"reason", "exhausted"}}) == 1; }));
  ASSERT_TRUE(eventually([&] { return by_queue("sales_events_consumed_total") == 2; }));
  EXPECT_EQ(effects(before), 1);
  EXPECT_EQ(effects(after), 1);
  EXPECT_EQ(effects(bad), 0);
  EXPECT_EQ(by_queue("sales_events_retried_total"), 2u) << "only the failing event's two retries";
  std::lock_guard lock(mu);
  EXPECT_GE(calls[bad], 3) << "three deliveries";
  EXPECT_LE(calls[bad], 4) << "and at most one more call, when a batch fell back to one by one";
}

// A handler whose session dies under it (a PostgreSQL restart, a terminated backend) did
// nothing wrong: the batch is decided one by one on a fresh connection, and no event spends
// one of its attempts (a retry copy) on it.
TEST_F(ConsumerBatchTest, ASessionLostUnderAHandlerIsNotBlamedOnItsEvent) {
  {
    Consumer declare(*pool_, params_, options(), Dispatcher{}.on("order.created", record), registry_);
    declare.start();
    ASSERT_TRUE(eventually([&] { return declare.connected(); }));
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(publish_event("order.created"));

  static constexpr pg::Statement kEndOwnSession{"test_end_own_session", "SELECT pg_terminate_backend(pg_backend_pid())"};
  std::atomic<bool> ended{false};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);
    if (e.id == ids[2] && !ended.exchange(true)) tx.exec(kEndOwnSession);
  });
  Consumer consumer(*pool_, params_, options(), std::move(d), registry_);
  consumer.start();

  ASSERT_TRUE(eventually([&] { return by_queue("sales_events_consumed_total") == 6; }));
  EXPECT_TRUE(ended.load());
  for (const auto& id : ids) EXPECT_EQ(effects(id), 1) << id;
  EXPECT_EQ(by_queue("sales_events_retried_total"), 0u) << "an event spent an attempt on a lost session";
}

// Under steady traffic a delivery that arrives while the batch before it is still recent
// waits out the gather window, and what arrives meanwhile joins its transaction.
TEST_F(ConsumerBatchTest, UnderSteadyTrafficDeliveriesWithinTheGatherWindowShareATransaction) {
  std::mutex mu;
  std::map<std::string, std::string> txid_of;
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);
    std::lock_guard lock(mu);
    txid_of[e.id] = tx.exec(kTxid).str(0, 0);
  });
  ConsumerOptions o = options();
  o.gather_window = std::chrono::seconds(2);  // wide: the test's own pauses are far shorter
  Consumer consumer(*pool_, params_, o, std::move(d), registry_);
  consumer.start();
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }));

  const std::string first = publish_event("order.created");  // after a quiet spell: at once
  ASSERT_TRUE(eventually([&] { return effects(first) == 1; }));
  const std::string second = publish_event("order.created");  // soon after: gathers
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string third = publish_event("order.created");  // joins the second's batch
  ASSERT_TRUE(eventually([&] { return effects(second) == 1 && effects(third) == 1; }));

  std::lock_guard lock(mu);
  EXPECT_EQ(txid_of[second], txid_of[third]) << "the third arrived within the window: one transaction";
  EXPECT_NE(txid_of[first], txid_of[second]);
}

// rabbitmq-c sends heartbeats only from inside its calls. A batch whose handlers each take a
// while (a lock wait, up to the statement timeout) must still let them out between events:
// past about two silent heartbeats the broker closes the connection and requeues the batch,
// which then comes again after its COMMIT, as duplicates.
TEST_F(ConsumerBatchTest, ALongBatchKeepsTheBrokerConnectionAlive) {
  {
    Consumer declare(*pool_, params_, options(), Dispatcher{}.on("order.created", record), registry_);
    declare.start();
    ASSERT_TRUE(eventually([&] { return declare.connected(); }));
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(publish_event("order.created"));  // one batch
  Dispatcher slow;
  slow.on("order.created", [](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // well under a 1 s heartbeat
  });
  amqp::ConnectionParams quick = params_;
  quick.heartbeat = std::chrono::seconds(1);  // the batch lasts 4 of them: two silent ones close it
  Consumer consumer(*pool_, quick, options(), std::move(slow), registry_);
  consumer.start();

  ASSERT_TRUE(eventually([&] { return by_queue("sales_events_consumed_total") == 10; }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // time for a requeued batch to come back
  EXPECT_EQ(by_queue("sales_events_duplicates_total"), 0u)
      << "the broker closed the silent connection and delivered the batch again";
  for (const auto& id : ids) EXPECT_EQ(effects(id), 1) << id;
  EXPECT_TRUE(consumer.connected());
}

}  // namespace
}  // namespace sales::events

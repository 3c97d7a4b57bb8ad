// The idempotent consumer against the real PostgreSQL and RabbitMQ.
#include "sales/events/consumer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "fixture.hpp"
#include "sales_test/metrics_text.hpp"

namespace sales::events {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

constexpr pg::Statement kFollowUps{"test_follow_ups",
                                   "SELECT count(*) FROM outbox WHERE type = 'follow.up' AND headers->>'x-request-id' = $1"};

class ConsumerTest : public testing::EffectsTest {
 protected:
  ConsumerOptions options() {
    auto o = EffectsTest::options();
    o.retry_delay_max = 100ms;
    o.backoff_max = 500ms;
    o.lag_refresh = 100ms;
    return o;
  }

  std::uint64_t dead_lettered(const std::string& reason) {
    return counter("sales_events_dead_lettered_total", {{"queue", queue_}, {"reason", reason}});
  }

};

TEST_F(ConsumerTest, AppliesAnEventOnceWhenItIsDeliveredTwice) {
  auto consumer = start(Dispatcher{}.on("order.created", record), options());
  std::string id = new_uuid();
  publish_event("order.created", R"({"order_id":1})", id);
  publish_event("order.created", R"({"order_id":1})", id);  // the same event again

  ASSERT_TRUE(eventually([&] { return by_queue("sales_events_duplicates_total") == 1; }));
  EXPECT_EQ(by_queue("sales_events_consumed_total"), 1u);
  EXPECT_EQ(effects(id), 1);
  EXPECT_TRUE(eventually([&] { return ready_in(queue_) == 0; }));
}

TEST_F(ConsumerTest, AFailingMessageEndsInTheDlqAndTheNextOneIsStillHandled) {
  std::atomic<int> calls{0};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    record(tx, e);  // rolled back by the throw below
    ++calls;
    throw std::runtime_error("handler always fails");
  });
  d.on("order.cancelled", record);
  auto consumer = start(std::move(d), options());

  std::string bad = publish_event("order.created");
  std::string good = publish_event("order.cancelled");

  ASSERT_TRUE(eventually([&] { return effects(good) == 1; })) << "the queue was blocked by the failing message";
  ASSERT_TRUE(eventually([&] { return dead_lettered("exhausted") == 1; }));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(by_queue("sales_events_retried_total"), 2u);
  EXPECT_EQ(effects(bad), 0);
  EXPECT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 1; }));

  consumer->stop();
  auto dead = drain_dead_letters(1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(parse(dead[0].body).id, bad);
  EXPECT_EQ(dead[0].header_int("x-attempts"), 3) << "every failure counted, the last one too";
  EXPECT_EQ(dead[0].header_string("x-request-id"), "req-" + suffix_) << "trace headers survive retries";
  EXPECT_EQ(dead[0].header_string("x-dead-letter-reason"), "handler always fails");
  EXPECT_EQ(dead[0].header_string("x-dead-letter-queue"), queue_);
}

TEST_F(ConsumerTest, ATransientFailureIsRetriedThenApplied) {
  std::atomic<int> calls{0};
  std::atomic<int> failed_before_applied{-1};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    if (++calls < 3) throw std::runtime_error("not yet");
    failed_before_applied = e.failed_attempts;
    record(tx, e);
  });
  auto consumer = start(std::move(d), options());
  std::string id = publish_event("order.created");
  ASSERT_TRUE(eventually([&] { return effects(id) == 1; }));
  EXPECT_EQ(failed_before_applied.load(), 2) << "the handler is told of the earlier failures";
  EXPECT_EQ(by_queue("sales_events_retried_total"), 2u);
  EXPECT_EQ(by_queue("sales_events_consumed_total"), 1u);
  EXPECT_EQ(dead_lettered("exhausted"), 0u);
}

// A database that refuses writes for a while (here: disk full, raised by the server itself)
// is not the events' fault: they wait, spending none of their attempts, however long it lasts.
TEST_F(ConsumerTest, ADatabaseThatRefusesWritesSpendsNoAttempts) {
  static constexpr pg::Statement kDiskFull{
      "test_consumer_disk_full", "DO $$ BEGIN RAISE EXCEPTION 'no space left' USING ERRCODE = 'disk_full'; END $$",
      pg::Plan::per_call};
  std::atomic<int> refusals{0};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    if (refusals < 9) {  // as many as three events have attempts
      ++refusals;
      tx.exec(kDiskFull, {});
    }
    record(tx, e);
  });
  auto consumer = start(std::move(d), options());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(publish_event("order.created"));
  for (const auto& id : ids) EXPECT_TRUE(eventually([&] { return effects(id) == 1; }, 10s)) << id;
  EXPECT_EQ(refusals.load(), 9);
  EXPECT_EQ(by_queue("sales_events_retried_total"), 0u);
  EXPECT_EQ(dead_lettered("exhausted"), 0u);
  EXPECT_EQ(ready_in(amqp::dead_letter_queue(queue_)), 0);
}

// A lock held longer than the consumer will wait for it (an operator's open transaction, say)
// is contention, not the event's fault: the event is retried, spending none of its attempts
// however many tries the lock outlasts, and applied once the lock is gone. The tries end by
// turns on a lock timeout (55P03) and on a statement timeout (57014, what a consumer's
// DB_STATEMENT_TIMEOUT_MS gives). (A deadlock or serialization failure past with_retry's
// tries is settled so too.)
TEST_F(ConsumerTest, ALockHeldTooLongSpendsNoAttempts) {
  static constexpr pg::Statement kCreateContended{"test_create_contended", "CREATE TABLE contended (id int PRIMARY KEY)",
                                                  pg::Plan::per_call};
  static constexpr pg::Statement kInsertContended{"test_insert_contended", "INSERT INTO contended VALUES (1)"};
  static constexpr pg::Statement kLockWaitsBriefly{"test_lock_waits_briefly",
                                                   "SELECT set_config('lock_timeout', '20ms', true)"};
  static constexpr pg::Statement kStatementWaitsBriefly{"test_statement_waits_briefly",
                                                        "SELECT set_config('statement_timeout', '20ms', true)"};
  static constexpr pg::Statement kTakeContended{"test_take_contended",
                                                "SELECT id FROM contended WHERE id = 1 FOR UPDATE"};
  pg::exec(*pool_, kCreateContended);
  pg::exec(*pool_, kInsertContended);
  std::atomic<int> tries{0}, lock_timeouts{0}, statement_timeouts{0};
  std::atomic<int> spent_when_applied{-1};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction& tx, const Envelope& e) {
    tx.exec(++tries % 2 ? kLockWaitsBriefly : kStatementWaitsBriefly);
    try {
      tx.exec(kTakeContended);
    } catch (const pg::Error& err) {
      if (err.lock_not_available()) ++lock_timeouts;
      if (err.sqlstate() == pg::Error::kQueryCanceled) ++statement_timeouts;
      throw;
    }
    spent_when_applied = e.failed_attempts;
    record(tx, e);
  });
  auto holder = std::make_optional<pg::Transaction>(*pool_);
  holder->exec(kTakeContended);
  const int attempts = options().max_attempts;
  auto consumer = start(std::move(d), options());
  std::string id = publish_event("order.created");
  ASSERT_TRUE(eventually([&] { return lock_timeouts.load() > attempts && statement_timeouts.load() > attempts; }, 10s))
      << "tries ended by a lock timeout: " << lock_timeouts.load() << ", by a statement timeout: " << statement_timeouts.load();
  EXPECT_EQ(effects(id), 0);
  holder.reset();  // rolled back: the lock is gone
  ASSERT_TRUE(eventually([&] { return effects(id) == 1; }, 10s));
  EXPECT_EQ(spent_when_applied.load(), 0) << "no attempt is spent on a lock wait";
  const auto waits = static_cast<std::uint64_t>(lock_timeouts.load() + statement_timeouts.load());
  EXPECT_EQ(waits, static_cast<std::uint64_t>(tries.load() - 1)) << "every try but the last waited in vain";
  EXPECT_EQ(by_queue("sales_events_contention_retries_total"), waits);
  EXPECT_EQ(by_queue("sales_events_retried_total"), waits);
  EXPECT_EQ(dead_lettered("exhausted"), 0u);
  EXPECT_EQ(ready_in(amqp::dead_letter_queue(queue_)), 0);
}

TEST_F(ConsumerTest, PoisonGoesStraightToTheDlq) {
  std::atomic<int> calls{0};
  Dispatcher d;
  d.on("order.created", [&](pg::Transaction&, const Envelope&) {
    ++calls;
    throw PoisonEvent("order_id missing");
  });
  d.on("order.cancelled", record);
  std::string euros;  // 1,800 bytes of three-byte characters: more than a reason may hold
  for (int i = 0; i < 600; ++i) euros += "\xE2\x82\xAC";
  d.on("order.paid", [&](pg::Transaction&, const Envelope&) -> void { throw PoisonEvent(euros); });
  auto consumer = start(std::move(d), options());

  publish_raw("order.created", "this is not an envelope");
  publish_raw("order.created", R"({"id":"not-a-uuid","type":"order.created","occurred_at":"x","data":{}})");
  publish_event("order.created");  // valid envelope the handler calls poison
  publish_event("order.paid");
  std::string good = publish_event("order.cancelled");

  ASSERT_TRUE(eventually([&] { return dead_lettered("poison") == 4; }));
  EXPECT_EQ(calls.load(), 1) << "no retries for poison";
  EXPECT_TRUE(eventually([&] { return effects(good) == 1; }));
  EXPECT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 4; }));
  EXPECT_TRUE(eventually([&] {
    return sales_test::metric_sum(registry_.render(), "sales_events_dead_letter_messages", {{"queue", queue_}}) == 4;
  })) << registry_.render();

  consumer->stop();
  auto dead = drain_dead_letters(4);
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_EQ(std::count_if(dead.begin(), dead.end(),
                          [](const amqp::Delivery& m) {
                            return m.header_string("x-dead-letter-reason") == "order_id missing";
                          }),
            1)
      << "the handler's own words reach the DLQ";
  EXPECT_EQ(std::count_if(dead.begin(), dead.end(),
                          [&](const amqp::Delivery& m) {
                            return m.header_string("x-dead-letter-reason") == euros.substr(0, 1023);
                          }),
            1)
      << "a long reason is cut to at most 1,024 bytes where a character starts (341 euro signs)";
  for (const auto& m : dead) {
    EXPECT_FALSE(m.header_string("x-dead-letter-reason").value_or("").empty()) << m.body;
    EXPECT_EQ(m.header_int("x-attempts"), 1) << "poison fails once, never retried: " << m.body;
  }
}

TEST_F(ConsumerTest, AHandlerEnqueuesFollowUpsInItsOwnTransactionWithTheTrace) {
  Dispatcher d;
  d.on("order.created", [](pg::Transaction& tx, const Envelope& e) {
    enqueue(tx, "follow.up", R"({"ok":true})", e.correlation_id);
  });
  d.on("order.cancelled", [](pg::Transaction& tx, const Envelope&) {
    enqueue(tx, "follow.up", "{}");
    throw PoisonEvent("the follow-up must roll back with the effect");
  });
  auto consumer = start(std::move(d), options());
  publish_event("order.created");
  publish_event("order.cancelled");

  ASSERT_TRUE(eventually([&] { return dead_lettered("poison") == 1 && by_queue("sales_events_consumed_total") == 1; }));
  EXPECT_EQ(pg::exec(*pool_, kFollowUps, {pg::param("req-" + suffix_)}).int64(0, 0), 1);
  EXPECT_EQ(testing::outbox_rows(*pool_), 1);
}

// A type the queue is bound to but this version has no handler for (a replica of the
// version before, during a rolling update) is retried like a failure and kept in the DLQ at
// last, never acknowledged and lost.
TEST_F(ConsumerTest, TypesWithoutAHandlerAreRetriedThenDeadLetteredNeverDropped) {
  ConsumerOptions o = options();
  o.extra_routing_keys = {"customer.updated"};
  auto consumer = start(Dispatcher{}.on("order.created", record), o);
  const std::string id = publish_event("customer.updated");
  ASSERT_TRUE(eventually([&] { return dead_lettered("exhausted") == 1; }));
  EXPECT_EQ(by_queue("sales_events_unhandled_total"), 3u) << "each of the 3 attempts";
  EXPECT_EQ(by_queue("sales_events_retried_total"), 2u);
  EXPECT_TRUE(eventually([&] { return ready_in(amqp::dead_letter_queue(queue_)) == 1; }));

  consumer->stop();
  auto dead = drain_dead_letters(1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(parse(dead[0].body).id, id);
  EXPECT_EQ(dead[0].header_string("x-dead-letter-reason"),
            "no handler for customer.updated in this version of the consumer");
}

// A backlog of old inbox rows (the first prune after a long stop) is pruned a bounded batch
// per turn of the loop, between deliveries, until none is left.
TEST_F(ConsumerTest, AnInboxBacklogIsPrunedInTurnsWhileEventsFlow) {
  static constexpr pg::Statement kOldCount{
      "test_consumer_old_inbox_count",
      "SELECT count(*) FROM inbox WHERE consumer = $1 AND message_id LIKE 'old-%'"};
  insert_old_inbox_rows(queue_, 12001);
  auto consumer = start(Dispatcher{}.on("order.created", record), options());
  const std::string id = publish_event("order.created");
  EXPECT_TRUE(eventually([&] { return effects(id) == 1; }));
  EXPECT_TRUE(eventually([&] { return pg::exec(*pool_, kOldCount, {pg::param(queue_)}).int64(0, 0) == 0; }));
}

TEST_F(ConsumerTest, ReportsLagAndConnectionInMetrics) {
  {
    // Declare the queue, then fill it while nobody consumes.
    auto consumer = start(Dispatcher{}.on("order.created", record), options());
    consumer->stop();
    EXPECT_FALSE(consumer->connected());
  }
  for (int i = 0; i < 5; ++i) publish_event("order.created");
  ConsumerOptions o = options();
  o.prefetch = 1;
  Dispatcher slow;
  slow.on("order.created", [](pg::Transaction& tx, const Envelope& e) {
    std::this_thread::sleep_for(200ms);
    record(tx, e);
  });
  auto consumer = start(std::move(slow), o);
  auto gauge = [&](std::string_view name) {
    return sales_test::metric_sum(registry_.render(), name, {{"queue", queue_}}).value_or(-1);
  };
  // Four wait behind the one delivered (prefetch 1), each handled in 200 ms.
  EXPECT_TRUE(eventually([&] { return gauge("sales_events_consumer_lag") >= 1; }))
      << registry_.render();
  EXPECT_EQ(gauge("sales_events_consumer_connected"), 1) << registry_.render();
  EXPECT_TRUE(eventually([&] { return by_queue("sales_events_consumed_total") == 5; }));
  EXPECT_TRUE(eventually([&] { return gauge("sales_events_consumer_lag") == 0; }));
}

}  // namespace
}  // namespace sales::events

#pragma once
// The common ground of the outbox, relay and consumer tests: the real broker with
// throwaway exchanges and queue, and a fresh schema with the events tables.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "../amqp/test_env.hpp"
#include "sales/events/consumer.hpp"
#include "sales/events/envelope.hpp"
#include "sales/events/outbox.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales_test/test_db.hpp"

namespace sales::testing {

class EventsTest : public sales_test::DbTest {
 protected:
  EventsTest() : DbTest(4, {events::migration()}) {}

  void SetUp() override {
    std::string missing;
    auto p = amqp_params_from_env(missing);
    if (!p) GTEST_FAIL() << missing << kRunViaSalesTest;
    params_ = *p;
    DbTest::SetUp();

    suffix_ = random_suffix();
    topology_ = unique_topology(suffix_);
    queue_ = "test_q_" + suffix_;
    cleanup_ = std::make_unique<TopologyCleanup>(params_, topology_);
    cleanup_->add_queue(queue_);
    for (const char* name : {"sales_outbox_published_total", "sales_outbox_publish_failures_total"}) {
      baseline_[name] = registry_.counter(name, "").value();
    }
  }

  void TearDown() override {
    cleanup_.reset();
    DbTest::TearDown();
  }

  // Publishes a ready-made body to the test exchange with routing key `type`.
  void publish_raw(const std::string& type, const std::string& body, const std::string& message_id = "") {
    amqp::Connection conn(params_);
    conn.connect();
    amqp::OutgoingMessage m;
    m.exchange = topology_.events_exchange;
    m.routing_key = type;
    m.type = type;
    m.message_id = message_id;
    m.body = body;
    m.headers[std::string(events::kRequestIdHeader)] = std::string("req-" + suffix_);
    conn.publish(m);
    conn.wait_for_confirms(std::chrono::seconds(5));
  }

  // Publishes a valid envelope; returns its id.
  std::string publish_event(const std::string& type, const std::string& data_json = "{}", std::string id = "") {
    if (id.empty()) id = events::new_uuid();
    publish_raw(type, events::serialize(id, type, events::now_rfc3339(), "corr-" + suffix_, data_json), id);
    return id;
  }

  // Takes up to `n` messages off the test queue's DLQ (stop the consumer first: the DLQ is
  // the test's alone, but a running consumer would keep the connection busy).
  std::vector<amqp::Delivery> drain_dead_letters(std::size_t n) {
    amqp::Connection conn(params_);
    conn.connect();
    return testing::drain(conn, amqp::dead_letter_queue(queue_), n);
  }

  // `n` inbox rows of `consumer` handled long ago (ids old-1 … old-n): a backlog to prune.
  void insert_old_inbox_rows(const std::string& consumer, std::int64_t n) {
    static constexpr pg::Statement kInsertOldInboxRows{
        "test_insert_old_inbox_rows",
        "INSERT INTO inbox (consumer, message_id, handled_at) "
        "SELECT $1, 'old-' || n, '2000-01-01T00:00:00Z' FROM generate_series(1, $2::int) AS n"};
    pg::exec(*pool_, kInsertOldInboxRows, {pg::param(consumer), pg::param(n)});
  }

  std::uint32_t ready_in(const std::string& queue) {
    amqp::Connection conn(params_);
    conn.connect();
    return conn.queue_message_count(queue);
  }

  // Increments since SetUp for the relay's unlabelled counters, absolute otherwise.
  std::uint64_t counter(const std::string& name, const metrics::Labels& labels = {}) {
    std::uint64_t base = labels.empty() && baseline_.contains(name) ? baseline_[name] : 0;
    return registry_.counter(name, "", labels).value() - base;
  }

  amqp::ConnectionParams params_;
  std::string suffix_;
  amqp::Topology topology_;
  std::string queue_;
  std::unique_ptr<TopologyCleanup> cleanup_;
  // The global registry: metrics::Registry cannot be instantiated outside metrics.cpp
  // (no out-of-line destructor for its incomplete Family). Consumer series carry the
  // test's unique queue label; unlabelled relay counters are read as deltas.
  metrics::Registry& registry_ = metrics::global();
  std::map<std::string, std::uint64_t> baseline_;
};

// The consumer tests' ground: EventsTest and a table of the effects their handlers apply,
// one row per message, written in the consumer's transaction.
inline constexpr pg::Statement kCreateEffects{"test_create_effects",
                                              "CREATE TABLE effects (message_id text NOT NULL, type text NOT NULL)"};
inline constexpr pg::Statement kRecordEffect{"test_record_effect",
                                             "INSERT INTO effects (message_id, type) VALUES ($1, $2)"};
inline constexpr pg::Statement kCountEffects{"test_count_effects",
                                             "SELECT count(*) FROM effects WHERE message_id = $1"};

class EffectsTest : public EventsTest {
 protected:
  void SetUp() override {
    EventsTest::SetUp();
    if (HasFatalFailure()) return;
    pg::exec(*pool_, kCreateEffects);
  }

  // Quick retries and reconnects on the test's queue and exchanges.
  events::ConsumerOptions options() {
    events::ConsumerOptions o;
    o.queue = queue_;
    o.topology = topology_;
    o.max_attempts = 3;
    o.retry_delay = std::chrono::milliseconds(20);
    o.backoff_initial = std::chrono::milliseconds(50);
    return o;
  }

  // Starts a consumer and waits until its queue is declared and bound.
  std::unique_ptr<events::Consumer> start(events::Dispatcher d, events::ConsumerOptions o) {
    auto c = std::make_unique<events::Consumer>(*pool_, params_, std::move(o), std::move(d), registry_);
    c->start();
    EXPECT_TRUE(eventually([&] { return c->connected(); })) << "consumer never connected";
    return c;
  }

  // A handler: records the message as applied.
  static void record(pg::Transaction& tx, const events::Envelope& e) {
    tx.exec(kRecordEffect, {pg::param(e.id), pg::param(e.type)});
  }
  std::int64_t effects(const std::string& id) { return pg::exec(*pool_, kCountEffects, {pg::param(id)}).int64(0, 0); }
  std::uint64_t by_queue(const std::string& name) { return counter(name, {{"queue", queue_}}); }
};

inline constexpr pg::Statement kCountOutbox{"test_count_outbox", "SELECT count(*) FROM outbox"};

inline std::int64_t outbox_rows(pg::Pool& pool) { return pg::exec(pool, kCountOutbox).int64(0, 0); }

}  // namespace sales::testing

// The outbox tables and enqueue(), against the real PostgreSQL.
#include "sales/events/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "fixture.hpp"
#include "sales/log/log.hpp"

namespace sales::events {
namespace {

using testing::EventsTest;

constexpr pg::Statement kReadOutbox{"test_read_outbox",
                                    "SELECT id::text, type, routing_key, payload, headers::text FROM outbox ORDER BY seq"};
constexpr pg::Statement kInsertInbox{"test_insert_inbox",
                                     "INSERT INTO inbox (consumer, message_id, handled_at) VALUES ($1, $2, $3::timestamptz)"};
constexpr pg::Statement kCountInbox{"test_count_inbox", "SELECT count(*) FROM inbox WHERE consumer = $1"};

class OutboxTest : public EventsTest {};

TEST_F(OutboxTest, MigrationIsVersionZeroAndIdempotent) {
  EXPECT_EQ(migration().version, 0);
  EXPECT_EQ(migration().name, "0000_events");
  EXPECT_EQ(pg::migrate(*pool_, {migration()}), 0);  // applied by the fixture already
  pg::Connection raw(schema_->conninfo());
  EXPECT_NO_THROW(raw.exec_raw(migration().sql));  // IF NOT EXISTS throughout
}

TEST_F(OutboxTest, EnqueueWritesTheEnvelopeInTheCallersTransaction) {
  std::string id;
  {
    pg::Transaction tx(*pool_);
    id = enqueue(tx, "order.created", R"({"order_id":42,"total":19.99})", "order-42",
                 TraceContext{"00-aa-bb-01", "req-9"});
    tx.commit();
  }
  {
    pg::Transaction tx(*pool_);
    enqueue(tx, "order.cancelled", "{}");  // never committed
  }
  auto rows = pg::exec(*pool_, kReadOutbox);
  ASSERT_EQ(rows.rows(), 1);
  EXPECT_EQ(rows.str(0, 0), id);
  EXPECT_EQ(rows.str(0, 1), "order.created");
  EXPECT_EQ(rows.str(0, 2), "order.created");
  Envelope e = parse(rows.text(0, 3));
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.correlation_id, "order-42");
  EXPECT_NE(rows.str(0, 3).find(R"("total":19.99)"), std::string::npos);
  auto headers = boost::json::parse(rows.text(0, 4)).as_object();
  EXPECT_EQ(headers.at("traceparent").as_string(), "00-aa-bb-01");
  EXPECT_EQ(headers.at("x-request-id").as_string(), "req-9");
}

// A trace header too long to travel is left off, so the event's AMQP headers, with the retry
// and dead-letter headers added later, always fit a frame.
TEST_F(OutboxTest, ATraceHeaderLongerThanTheBoundIsLeftOff) {
  {
    pg::Transaction tx(*pool_);
    enqueue(tx, "a.happened", "{}", "", {std::string(kMaxTraceHeaderBytes + 1, 'a'), "req-1"});
    enqueue(tx, "b.happened", "{}", "", {std::string(kMaxTraceHeaderBytes, 'b'), "req-2"});
    tx.commit();
  }
  auto rows = pg::exec(*pool_, kReadOutbox);
  ASSERT_EQ(rows.rows(), 2);
  auto first = boost::json::parse(rows.text(0, 4)).as_object();
  EXPECT_FALSE(first.contains("traceparent"));
  EXPECT_EQ(first.at("x-request-id").as_string(), "req-1");
  auto second = boost::json::parse(rows.text(1, 4)).as_object();
  EXPECT_EQ(second.at("traceparent").as_string().size(), kMaxTraceHeaderBytes);
}

TEST_F(OutboxTest, TraceDefaultsToTheEventBeingHandledThenTheRequestScope) {
  {
    log::RequestScope request("req-from-http");
    pg::Transaction tx(*pool_);
    enqueue(tx, "a.happened", "{}");
    {
      TraceScope handling({"00-cc-dd-01", "req-from-event"});
      boost::json::object data;
      data["n"] = 1;
      enqueue(tx, "b.happened", data);
    }
    tx.commit();
  }
  auto rows = pg::exec(*pool_, kReadOutbox);
  ASSERT_EQ(rows.rows(), 2);
  auto first = boost::json::parse(rows.text(0, 4)).as_object();
  EXPECT_EQ(first.at("x-request-id").as_string(), "req-from-http");
  EXPECT_FALSE(first.contains("traceparent"));
  auto second = boost::json::parse(rows.text(1, 4)).as_object();
  EXPECT_EQ(second.at("x-request-id").as_string(), "req-from-event");
  EXPECT_EQ(second.at("traceparent").as_string(), "00-cc-dd-01");
  Envelope e = parse(rows.text(1, 3));
  EXPECT_EQ(e.correlation_id, e.id);  // none given: the event starts its own chain
  EXPECT_EQ(e.data.at("n").as_int64(), 1);
}

TEST_F(OutboxTest, DataMustBeAJsonObject) {
  pg::Transaction tx(*pool_);
  EXPECT_THROW(enqueue(tx, "x.y", "[1]"), std::invalid_argument);
  EXPECT_THROW(enqueue(tx, "x.y", "{broken"), std::invalid_argument);
  EXPECT_THROW(enqueue(tx, "", "{}"), std::invalid_argument);
}

TEST_F(OutboxTest, PruneRemovesOnlyOldRowsOfThatConsumer) {
  pg::exec(*pool_, kInsertInbox, {pg::param("c1"), pg::param("old"), pg::param("2000-01-01T00:00:00Z")});
  pg::exec(*pool_, kInsertInbox, {pg::param("c1"), pg::param("new"), pg::param("now")});
  pg::exec(*pool_, kInsertInbox, {pg::param("c2"), pg::param("old"), pg::param("2000-01-01T00:00:00Z")});
  EXPECT_EQ(prune_inbox(*pool_, "c1"), 1);
  EXPECT_EQ(pg::exec(*pool_, kCountInbox, {pg::param("c1")}).int64(0, 0), 1);
  EXPECT_EQ(pg::exec(*pool_, kCountInbox, {pg::param("c2")}).int64(0, 0), 1);
}

TEST_F(OutboxTest, PruneTakesAtMostItsRoundsOfRows) {
  insert_old_inbox_rows("c1", 12001);
  EXPECT_EQ(prune_inbox(*pool_, "c1", std::chrono::hours(1), 1), kInboxPruneBatch) << "one round";
  EXPECT_EQ(prune_inbox(*pool_, "c1", std::chrono::hours(1)), 12001 - kInboxPruneBatch) << "the rest";
  EXPECT_EQ(pg::exec(*pool_, kCountInbox, {pg::param("c1")}).int64(0, 0), 0);
}

}  // namespace
}  // namespace sales::events

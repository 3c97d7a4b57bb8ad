#include "sales/events/envelope.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace sales::events {
namespace {

constexpr const char* kValid =
    R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"order.created","occurred_at":"2024-05-01T12:00:00.123Z",)"
    R"("correlation_id":"order-42","data":{"order_id":42,"total":19.99}})";

TEST(Envelope, ParsesAValidEnvelope) {
  Envelope e = parse(kValid);
  EXPECT_EQ(e.id, "6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4");
  EXPECT_EQ(e.type, "order.created");
  EXPECT_EQ(e.occurred_at, "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(e.correlation_id, "order-42");
  EXPECT_EQ(e.data.at("order_id").as_int64(), 42);
}

TEST(Envelope, SerializeThenParseRoundTrips) {
  Envelope e;
  e.id = new_uuid();
  e.type = "inventory.reserved";
  e.occurred_at = now_rfc3339();
  e.correlation_id = "order-7";
  e.data["order_id"] = 7;
  e.data["note"] = "quote \" and \\ and \n";
  Envelope back = parse(serialize(e));
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.type, e.type);
  EXPECT_EQ(back.occurred_at, e.occurred_at);
  EXPECT_EQ(back.correlation_id, e.correlation_id);
  EXPECT_EQ(back.data, e.data);
}

TEST(Envelope, SplicesDataVerbatimSoMoneyKeepsItsDigits) {
  std::string body = serialize(new_uuid(), "payment.confirmed", now_rfc3339(), "order-1", R"({"amount":19.99})");
  EXPECT_NE(body.find(R"("data":{"amount":19.99})"), std::string::npos) << body;
  EXPECT_NO_THROW(parse(body));
}

TEST(Envelope, CorrelationIdIsOptional) {
  Envelope e = parse(R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"t","occurred_at":"2024-05-01T12:00:00Z","data":{}})");
  EXPECT_EQ(e.correlation_id, "");
}

TEST(Envelope, RejectsInvalidBodiesWithATypedError) {
  const char* bad[] = {
      "",
      "not json",
      "[1,2]",
      "{}",
      R"({"id":"nope","type":"t","occurred_at":"2024-05-01T12:00:00Z","data":{}})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"","occurred_at":"2024-05-01T12:00:00Z","data":{}})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":7,"occurred_at":"2024-05-01T12:00:00Z","data":{}})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"t","occurred_at":"yesterday","data":{}})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"t","occurred_at":"2024-05-01T12:00:00Z"})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"t","occurred_at":"2024-05-01T12:00:00Z","data":[]})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"t","occurred_at":"2024-05-01T12:00:00Z","data":{},"correlation_id":5})",
      R"({"id":"6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3c4","type":"t","occurred_at":"2024-05-01T12:00:00Z","data":{})",
  };
  for (const char* body : bad) EXPECT_THROW(parse(body), InvalidEnvelope) << body;
}

TEST(Envelope, UuidsAreVersion7UniqueAndInTheOrderTheyWereMade) {
  std::set<std::string> seen;
  std::string previous;
  const auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (int i = 0; i < 20000; ++i) {  // far more than 4096 per millisecond: the count borrows
    std::string id = new_uuid();
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '7') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    ASSERT_LT(previous, id) << "made after " << previous;
    previous = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 20000u);
  // The first 48 bits are Unix milliseconds: the last id's are about now.
  const std::string hex = previous.substr(0, 8) + previous.substr(9, 4);
  const auto ms = static_cast<long long>(std::stoull(hex, nullptr, 16));
  EXPECT_GE(ms, before_ms);
  EXPECT_LT(ms, before_ms + 60000) << previous;
  EXPECT_FALSE(is_uuid("6f1c2b8e-3d4a-4b5c-9d6e-7f8091a2b3cz"));
  EXPECT_FALSE(is_uuid("6f1c2b8e3d4a4b5c9d6e7f8091a2b3c4"));
}

TEST(Envelope, NowIsRfc3339Utc) {
  std::string t = now_rfc3339();
  ASSERT_EQ(t.size(), 27u) << t;  // 2024-05-01T12:00:00.123456Z
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
  EXPECT_NO_THROW(parse(serialize(new_uuid(), "t", t, "", "{}")));
}

// The width of SALES_PG_RFC3339's timestamps, microseconds included, so that the unpaid-order
// expiry can compare a payment's created_at with a time of its own as strings.
TEST(Envelope, ATimeIsWrittenAsTheDatabaseWritesIt) {
  using namespace std::chrono;
  const sys_days day = year{2026} / December / 5;
  EXPECT_EQ(rfc3339(day + 8h + 7min + 6s + 5us), "2026-12-05T08:07:06.000005Z");
  EXPECT_EQ(rfc3339(day), "2026-12-05T00:00:00.000000Z");
  EXPECT_EQ(rfc3339(sys_days{year{1969} / December / 31} + 23h + 59min + 59s + 999999us), "1969-12-31T23:59:59.999999Z");
  EXPECT_LT(rfc3339(day + 999ms), rfc3339(day + 1s));
}

TEST(Envelope, TraceScopeNestsAndRestores) {
  EXPECT_EQ(current_trace().request_id, "");
  {
    TraceScope outer({"tp-1", "req-1"});
    EXPECT_EQ(current_trace().request_id, "req-1");
    {
      TraceScope inner({"tp-2", "req-2"});
      EXPECT_EQ(current_trace().traceparent, "tp-2");
    }
    EXPECT_EQ(current_trace().traceparent, "tp-1");
  }
  EXPECT_EQ(current_trace().request_id, "");
}

}  // namespace
}  // namespace sales::events

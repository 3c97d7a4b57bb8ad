#pragma once
// The event envelope of DESIGN §4:
//   {"id": uuid, "type": "order.created", "occurred_at": RFC 3339 UTC, "correlation_id": ..., "data": {...}}
// Trace context (W3C traceparent, X-Request-Id) travels in AMQP headers, not in the body,
// so the body stays the contract and tracing can change without touching consumers.
#include <boost/json/object.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sales/events/trace_header.hpp"

namespace sales::events {

// AMQP header names carried by every event we publish.
inline constexpr std::string_view kTraceparentHeader = "traceparent";
inline constexpr std::string_view kRequestIdHeader = "x-request-id";
// How many times consumers have failed on this message so far (absent = 0).
inline constexpr std::string_view kAttemptsHeader = "x-attempts";
// On a message in a DLQ: why the consumer put it there, and the queue it came from.
inline constexpr std::string_view kDeadLetterReasonHeader = "x-dead-letter-reason";
inline constexpr std::string_view kDeadLetterQueueHeader = "x-dead-letter-queue";

struct TraceContext {
  std::string traceparent;  // empty when unknown
  std::string request_id;   // empty when unknown
};

struct Envelope {
  std::string id;              // uuid v4, also the AMQP message_id and the dedup key
  std::string type;            // e.g. "order.created"; also the routing key
  std::string occurred_at;     // RFC 3339 UTC, e.g. "2024-05-01T12:00:00.123Z"
  std::string correlation_id;  // ties the events of one saga together (e.g. "order-42")
  boost::json::object data;
  TraceContext trace;  // from the AMQP headers of a received message
  // How often consumers of this queue have failed on it before (x-attempts; 0 on its first
  // delivery): what a handler waiting for something may count its patience in.
  int failed_attempts = 0;
};

// A body that is not a valid envelope: the message is poison and goes to the DLQ.
class InvalidEnvelope : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses and validates a message body. Throws InvalidEnvelope: not JSON, not an object,
// a required member missing or of the wrong type, an id that is not a uuid, an empty type.
Envelope parse(std::string_view body);

// The JSON body of an envelope (trace is not part of it).
std::string serialize(const Envelope& e);
// Same, with `data_json` (an already-serialised JSON object) spliced in verbatim, so
// amounts written by json::Writer as 19.99 are never reprinted as 1.999E1.
std::string serialize(std::string_view id, std::string_view type, std::string_view occurred_at,
                      std::string_view correlation_id, std::string_view data_json);

// A fresh time-ordered (version 7) uuid, lowercase, 36 characters: one thread's ids sort
// in the order they were made (B-tree friendly keys for the inbox and the outbox).
std::string new_uuid();
bool is_uuid(std::string_view s);
// A time, and now, as RFC 3339 UTC with microseconds: the fixed width of the services'
// own timestamps (SALES_PG_RFC3339), so two of them compare as strings compare.
std::string rfc3339(std::chrono::system_clock::time_point t);
std::string now_rfc3339();

// The trace context of the event being handled on this thread (set by the Consumer), so
// that events enqueued by a handler carry the trace of the event that caused them.
const TraceContext& current_trace();
class TraceScope {
 public:
  explicit TraceScope(TraceContext trace);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  TraceContext previous_;
};

}  // namespace sales::events

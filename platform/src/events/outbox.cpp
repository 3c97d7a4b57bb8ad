#include "sales/events/outbox.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "sales/json/writer.hpp"
#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"
#include "statements.hpp"
#include "wakeup.hpp"

namespace sales::events {
namespace {

constexpr std::string_view kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq          bigserial   PRIMARY KEY,
  id           uuid        NOT NULL UNIQUE,
  type         text        NOT NULL,
  routing_key  text        NOT NULL,
  -- the envelope exactly as it will be published (text keeps the bytes, jsonb would not)
  payload      text        NOT NULL,
  -- AMQP headers to publish with it: traceparent, x-request-id
  headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- failed publish rounds, for diagnosis; the row stays until published
  attempts     integer     NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS inbox (
  consumer     text        NOT NULL,
  message_id   text        NOT NULL,
  handled_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);
CREATE INDEX IF NOT EXISTS inbox_handled_at ON inbox (handled_at);
)sql";

std::string headers_json(const TraceContext& trace) {
  json::Writer w;
  w.begin_object();
  auto carried = [](const std::string& value) { return !value.empty() && value.size() <= kMaxTraceHeaderBytes; };
  if (carried(trace.traceparent)) w.field(kTraceparentHeader, trace.traceparent);
  if (carried(trace.request_id)) w.field(kRequestIdHeader, trace.request_id);
  w.end_object();
  return w.take();
}

}  // namespace

pg::Migration migration() { return pg::Migration{0, "0000_events", kSchemaSql}; }

std::string enqueue(pg::Transaction& tx, std::string_view type, std::string_view data_json,
                    std::string_view correlation_id, const TraceContext& trace) {
  if (type.empty()) throw std::invalid_argument("events::enqueue: empty event type");
  boost::system::error_code ec;
  auto parsed = boost::json::parse(data_json, ec);
  if (ec || !parsed.is_object()) {
    throw std::invalid_argument("events::enqueue: data of " + std::string(type) + " is not a JSON object");
  }
  TraceContext effective = trace;
  if (effective.traceparent.empty()) effective.traceparent = current_trace().traceparent;
  if (effective.request_id.empty()) effective.request_id = current_trace().request_id;
  if (effective.request_id.empty()) effective.request_id = std::string(log::current_request_id());

  std::string id = new_uuid();
  std::string correlation = correlation_id.empty() ? id : std::string(correlation_id);
  std::string body = serialize(id, type, now_rfc3339(), correlation, data_json);
  // Nothing reads its result: it travels with the transaction's next statement or COMMIT.
  tx.exec_later(stmt::kInsertOutbox, {pg::param(id), pg::param(type), pg::param(type), pg::param(body),
                                      pg::param(headers_json(effective))});
  tx.after_commit_once(detail::wake_relays);
  return id;
}

std::string enqueue(pg::Transaction& tx, std::string_view type, const boost::json::object& data,
                    std::string_view correlation_id, const TraceContext& trace) {
  return enqueue(tx, type, boost::json::serialize(data), correlation_id, trace);
}

std::int64_t prune_inbox(pg::Pool& pool, const std::string& consumer, std::chrono::hours retention, int max_rounds) {
  std::int64_t total = 0;
  const std::string seconds = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(retention).count());
  for (int round = 0; round < max_rounds; ++round) {  // bounded: a huge backlog is finished next time
    auto r = pg::exec(pool, stmt::kPruneInbox, {pg::param(consumer), pg::param(seconds), pg::param(kInboxPruneBatch)});
    total += r.affected();
    if (r.affected() < kInboxPruneBatch) break;
  }
  return total;
}

}  // namespace sales::events

#pragma once
// The transactional outbox and the inbox (DESIGN §4): an event is a row written in the
// same transaction as the state change it reports, and a consumer records the ids it has
// handled in the same transaction as the effect. Tables come from events::migration().
#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "sales/events/envelope.hpp"
#include "sales/pg/migrations.hpp"

namespace sales::pg {
class Pool;
class Transaction;
}  // namespace sales::pg

namespace sales::events {

// Version 0: put it before the service's own migrations,
//   auto m = sales::generated::migrations(); m.insert(m.begin(), sales::events::migration());
pg::Migration migration();

// Inserts the event into the outbox inside `tx` and wakes this process's relays after the
// commit (an after-commit hook; a rolled-back transaction publishes nothing; rows written by
// other processes are found by the relay's poll, or by a NOTIFY outbox). `data_json` must be a JSON
// object (std::invalid_argument otherwise: a programming error). An empty correlation id
// becomes the event's own id; trace fields left empty are taken from the event being
// handled on this thread (TraceScope) or the request id of the log scope.
// Returns the event id.
std::string enqueue(pg::Transaction& tx, std::string_view type, std::string_view data_json,
                    std::string_view correlation_id = {}, const TraceContext& trace = {});
std::string enqueue(pg::Transaction& tx, std::string_view type, const boost::json::object& data,
                    std::string_view correlation_id = {}, const TraceContext& trace = {});

// Deletes inbox rows of `consumer` older than `retention`, in at most `max_rounds` batches of
// kInboxPruneBatch rows; returns the number removed (a full last batch: there may be more).
// The Consumer calls it periodically; the window must stay longer than any redelivery could
// take (DESIGN keeps 7 days).
inline constexpr std::int64_t kInboxPruneBatch = 5000;
std::int64_t prune_inbox(pg::Pool& pool, const std::string& consumer,
                         std::chrono::hours retention = std::chrono::hours(24 * 7), int max_rounds = 100);

}  // namespace sales::events

#pragma once
// SQL of the outbox, the relay and the inbox, as named constants. Names start with
// "events_" so they never collide with a service's prepared statements on a shared
// connection.
#include "sales/pg/pool.hpp"

namespace sales::events::stmt {

// No pg_notify here: a notifying transaction takes a cluster-wide lock through its commit
// (wakeup.hpp says what wakes the relay instead).
inline constexpr pg::Statement kInsertOutbox{
    "events_outbox_insert",
    "INSERT INTO outbox (id, type, routing_key, payload, headers) VALUES ($1::uuid, $2, $3, $4, $5::jsonb)"};

// SKIP LOCKED: concurrent relays (replicas) take disjoint batches instead of waiting.
inline constexpr pg::Statement kLockBatch{
    "events_outbox_lock_batch",
    "SELECT seq, id::text, type, routing_key, payload, headers::text FROM outbox "
    "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"};

inline constexpr pg::Statement kDeletePublished{"events_outbox_delete",
                                                "DELETE FROM outbox WHERE seq = ANY($1::bigint[])"};

inline constexpr pg::Statement kCountAttempt{"events_outbox_attempt",
                                             "UPDATE outbox SET attempts = attempts + 1 WHERE seq = ANY($1::bigint[])"};

inline constexpr pg::Statement kBacklog{"events_outbox_backlog", "SELECT count(*) FROM outbox"};

// Affected rows = 1 when the message is new for this consumer, 0 for a duplicate.
inline constexpr pg::Statement kInsertInbox{
    "events_inbox_insert",
    "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"};

// A batch's ids as a JSON array of strings (any bytes an id may hold survive); returns the
// ids that are new for this consumer. A repeated id within the batch comes back once.
inline constexpr pg::Statement kInsertInboxBatch{
    "events_inbox_insert_batch",
    "INSERT INTO inbox (consumer, message_id) SELECT $1, m FROM jsonb_array_elements_text($2::jsonb) AS t(m) "
    "ON CONFLICT DO NOTHING RETURNING message_id"};

// The optimistic forms: no ON CONFLICT, so an id handled before fails the transaction on
// the inbox's key (kInboxKey). They travel with the handler's first statement (exec_later):
// a new event, nearly every one, costs no round trip of its own for its inbox row.
inline constexpr std::string_view kInboxKey = "inbox_pkey";
// An event was handled before: the optimistic insert hit the inbox's key.
inline bool is_inbox_repeat(const pg::Error& e) { return e.unique_violation() && e.constraint() == kInboxKey; }
// The fast path failed for a reason that is not a handler's: a repeat, or the connection
// went, maybe after the COMMIT landed.
inline bool needs_careful_path(const pg::Error& e) { return is_inbox_repeat(e) || e.connection_lost(); }
// The database failed, not the event: the session went away, or no connection could be had.
inline bool database_failure(const pg::Error& e) {
  return e.connection_lost() || dynamic_cast<const pg::Unavailable*>(&e) != nullptr;
}
// The database refuses every write for now, whatever the event: its disk is full (53100),
// it has no connection to spare (53300), it is read-only (25006: a standby, or a failover
// still under way), an I/O error (58030), or it is still starting (57P03). Reads may still
// work, so no probe tells; spending the event's attempts on it would send compensations
// that nothing re-sends to the dead letters. Not the states one event can cause every time
// (out of memory or shared memory, a temp_file_limit): those still count, so such an event
// reaches the dead letters instead of blocking its queue.
inline bool database_refuses_writes(const pg::Error& e) {
  const auto& s = e.sqlstate();
  return s == "53100" || s == "53300" || s == "25006" || s == "58030" || s == "57P03";
}
inline constexpr pg::Statement kInsertInboxNew{"events_inbox_insert_new",
                                               "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2)"};
inline constexpr pg::Statement kInsertInboxBatchNew{
    "events_inbox_insert_batch_new",
    "INSERT INTO inbox (consumer, message_id) SELECT $1, m FROM jsonb_array_elements_text($2::jsonb) AS t(m)"};

inline constexpr pg::Statement kPruneInbox{
    "events_inbox_prune",
    "DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox WHERE consumer = $1 "
    "AND handled_at < now() - make_interval(secs => $2::double precision) LIMIT $3::bigint)"};  // $3: kInboxPruneBatch

}  // namespace sales::events::stmt

#pragma once
// A statement still running when the request it serves runs out of time is cancelled.
// The gateway has answered 504 by then; without this the statement would hold its
// connection, its locks and a PostgreSQL backend until it ended or hit statement_timeout.
// One watchdog thread per process sleeps until the earliest armed deadline and has that
// connection's cancel request (PQcancel) sent, again every 50 ms until the statement ends (a
// cancel that reaches the backend between commands is ignored). The statement then fails
// with SQLSTATE 57014, which Connection turns into pg::DeadlineExceeded (the server answers
// 504), and its transaction rolls back. A trip that may commit (one holding COMMIT, or a
// write outside a transaction) is never cancelled: a COMMIT waiting for a synchronous
// standby cannot be undone, and a cancel then ends the wait with success, committed on the
// primary alone (PostgreSQL's "canceling wait for synchronous replication" warning). Such a
// trip is bounded by statement_timeout, which ends that wait the same way: the warning is
// logged as an error (Connection's notice receiver), the one trace it leaves.
// A statement (or transaction trip) that would start after the deadline is not sent at all.
// Cancels are sent side by side (up to 16 at once): one whose host has gone silent holds
// up no other while fewer than 16 are stuck.
#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <string_view>

#include "sales/pg/pool.hpp"
#include "sales/resilience/clock.hpp"
#include "sales/text/ascii.hpp"

namespace sales::pg::detail {

// Throws DeadlineExceeded when the current thread serves a request whose deadline has
// passed: the gateway has answered 504, so nothing more of the request may start (nor
// commit). ROLLBACK (Connection::exec_raw) is never refused. Returns the deadline
// (resilience::kNoDeadline without one).
resilience::TimePoint refuse_past_deadline();

// A SELECT, which commits nothing of its own (ours call no function that writes).
bool reads_only(std::string_view sql);

// Whether a trip of these statements (SQL texts, in order), sent on a session inside a
// transaction or not, may commit, and so is never cancelled: one that ends a transaction
// (COMMIT, END), or, outside a transaction and not opening one (BEGIN), one that holds more
// than reads: it is an implicit transaction that commits itself. The COMMIT of a trip that
// opens a read-only transaction (kBeginReadOnlySnapshot) commits nothing.
template <class SqlTexts>
bool trip_may_commit(bool in_transaction, const SqlTexts& sqls) {
  bool first = true, opens = false, read_only = false, writes = false;
  for (std::string_view sql : sqls) {
    if (first) {
      opens = text::iequals(sql.substr(0, 5), "BEGIN");
      read_only = sql == kBeginReadOnlySnapshot;
    }
    const bool ends = text::iequals(sql.substr(0, 6), "COMMIT") || text::iequals(sql.substr(0, 3), "END");
    if (ends && !read_only) return true;
    first = false;
    writes = writes || !reads_only(sql);
  }
  return !in_transaction && !opens && writes;
}

// Cancel requests this process has sent (each one a connection to the server).
std::uint64_t cancels_sent();

class CancelAtDeadline {
 public:
  // Refuses a statement past the deadline (refuse_past_deadline). Armed while it lives if
  // the current thread serves a request with a deadline and `cancel` is not null (null: a
  // trip that may commit); otherwise it does nothing more.
  explicit CancelAtDeadline(PGcancel* cancel);
  // Disarms. A cancel still queued is dropped; one being sent just then is waited for, so
  // it can never reach a later statement on the same connection (a cancel that reaches an
  // idle backend is ignored by PostgreSQL).
  ~CancelAtDeadline();
  CancelAtDeadline(const CancelAtDeadline&) = delete;
  CancelAtDeadline& operator=(const CancelAtDeadline&) = delete;

  // Whether the deadline passed and the cancel was queued to be sent (a statement that
  // then fails with 57014 was cancelled by it).
  [[nodiscard]] bool fired() const;

 private:
  PGcancel* cancel_;
  bool armed_ = false;
  bool fired_ = false;    // written by the watchdog under its mutex
  bool sending_ = false;  // its cancel is queued for, or being sent by, a sender thread
  int sends_ = 0;         // cancels sent so far (each resend waits longer)
  std::multimap<resilience::TimePoint, CancelAtDeadline*>::iterator at_;
  friend class Watchdog;
};

}  // namespace sales::pg::detail

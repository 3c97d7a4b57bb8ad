#pragma once
// PostgreSQL through libpq: a bounded connection pool, named prepared statements and a
// scoped transaction that must be committed explicitly (it rolls back otherwise).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef struct pg_cancel PGcancel;

namespace sales::pg {

// How the server plans a statement's calls.
enum class Plan {
  // Prepared once per connection under the statement's name. After five calls PostgreSQL may
  // keep one generic plan for every value: right for statements whose best plan does not
  // depend on the values (a lookup by key, an insert), where it saves the planning.
  cached,
  // Sent unnamed and planned for each call's own values. For statements whose best plan does
  // depend on them: a list's optional filters (`$1 IS NULL OR status = $1`), whose generic
  // plan cannot use the filter's index. A connection that served five deep pages had switched
  // to it for good, and one customer's orders then took ~200 ms (every order read) instead
  // of ~1 ms on 0.5 M orders, growing with the table.
  per_call,
};

// A statement is a named constant: `inline constexpr Statement kFindProduct{"find_product", "SELECT ..."};`
// The name is the server-side prepared statement's name (Plan::cached, prepared once per
// connection) and names the statement in errors.
struct Statement {
  std::string_view name;
  std::string_view sql;
  Plan plan = Plan::cached;
};

// Errors: Error for anything unexpected; the sqlstate lets callers map known conflicts.
class Error : public std::runtime_error {
 public:
  // session_ended: the connection was found closed after the failure, whatever its code.
  Error(std::string msg, std::string sqlstate, std::string constraint = {}, bool session_ended = false)
      : std::runtime_error(std::move(msg)),
        sqlstate_(std::move(sqlstate)),
        constraint_(std::move(constraint)),
        session_ended_(session_ended) {}
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }
  // The constraint a violation names (the server's report), or empty.
  [[nodiscard]] const std::string& constraint() const { return constraint_; }
  [[nodiscard]] bool unique_violation() const { return sqlstate_ == "23505"; }
  [[nodiscard]] bool serialization_failure() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  // lock_not_available: lock_timeout passed, or NOWAIT found the row held.
  [[nodiscard]] bool lock_not_available() const { return sqlstate_ == "55P03"; }
  // The session is gone: a connection exception (08xxx, and 08000 when libpq got no answer
  // at all), or the server ended it and said why before closing: terminated by an
  // administrator or a fast shutdown (57P01), a crash of another backend (57P02), or
  // idle_session_timeout (57P05), all FATAL; or any other code after which the connection
  // was closed (idle_in_transaction_session_timeout's 25P03, a FATAL of a newer server).
  [[nodiscard]] bool connection_lost() const {
    return session_ended_ || sqlstate_.starts_with("08") || sqlstate_ == "57P01" || sqlstate_ == "57P02" ||
           sqlstate_ == "57P05";
  }
  // The server gave up on the statement: a statement or lock timeout, a cancel (query_canceled),
  // a serialization failure or deadlock. Contention, not the statement's data.
  [[nodiscard]] bool contention() const {
    return sqlstate_ == kQueryCanceled || lock_not_available() || serialization_failure();
  }
  // Worth trying again: connection lost, contention, too many connections, server shutting
  // down.
  [[nodiscard]] bool transient() const {
    return connection_lost() || contention() || sqlstate_ == kTooManyConnections || sqlstate_.starts_with("57P");
  }
  // Bad data the application passed (invalid datetime, out of range, ...): class 22.
  [[nodiscard]] bool data_exception() const { return sqlstate_.starts_with("22"); }
  // libpq reports a failure with no server answer (the connection broke mid-call) this way.
  static constexpr const char* kNoServer = "08000";
  // query_canceled: statement_timeout, a cancel request, and (ours) a request's deadline.
  static constexpr const char* kQueryCanceled = "57014";
  // too_many_connections: the server's, and (ours) no pooled connection free in time.
  static constexpr const char* kTooManyConnections = "53300";
  // in_failed_sql_transaction: a statement failed earlier in the transaction.
  static constexpr const char* kInFailedTransaction = "25P02";

 private:
  std::string sqlstate_;
  std::string constraint_;
  bool session_ended_ = false;
};
class Unavailable : public Error {  // no connection could be had in time
 public:
  using Error::Error;
};
// No connection could be had before the current request's deadline (resilience/deadline.hpp),
// or a statement still running at it was cancelled (its transaction rolls back): an
// Unavailable, so code that copes with a pool timeout copes with it alike; the server
// answers it 504 rather than 503, since the caller has stopped waiting.
class DeadlineExceeded : public Unavailable {
 public:
  using Unavailable::Unavailable;
};

class Result {
 public:
  explicit Result(PGresult* r);
  ~Result();
  Result(Result&& o) noexcept;
  Result& operator=(Result&& o) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  [[nodiscard]] int rows() const;
  [[nodiscard]] bool empty() const { return rows() == 0; }
  [[nodiscard]] std::int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE
  // The command tag's verb ("COMMIT", "ROLLBACK", "INSERT", ...): a COMMIT of a transaction
  // in which a statement failed succeeds with the tag ROLLBACK.
  [[nodiscard]] std::string_view command() const;
  [[nodiscard]] bool is_null(int row, int col) const;
  [[nodiscard]] std::string_view text(int row, int col) const;
  [[nodiscard]] std::string str(int row, int col) const { return std::string(text(row, col)); }
  [[nodiscard]] std::int64_t int64(int row, int col) const;
  // Column `col` of every row as integers (ids a query answers).
  [[nodiscard]] std::vector<std::int64_t> int64_column(int col) const;
  [[nodiscard]] std::optional<std::string> opt_str(int row, int col) const;

 private:
  friend class Connection;
  PGresult* res_;
};

// Parameters are passed as text; nullopt is SQL NULL.
using Param = std::optional<std::string>;
Param param(std::int64_t v);
Param param(std::string_view v);
inline Param param(const std::string& v) { return param(std::string_view(v)); }
inline Param param(const char* v) { return param(std::string_view(v)); }
inline Param param(std::nullopt_t) { return std::nullopt; }
template <class T>
Param param(const std::optional<T>& v) { return v ? param(*v) : std::nullopt; }

// Opens a pipeline of reads that must agree with each other (an order, its lines and its
// history): under READ COMMITTED every statement takes a snapshot of its own, even in one
// implicit transaction. Its COMMIT commits nothing, so such a trip stays cancellable.
inline constexpr std::string_view kBeginReadOnlySnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// One statement of a pipeline: a named statement with its parameters, or, without one, a
// parameterless command such as BEGIN or COMMIT.
struct Step {
  const Statement* st = nullptr;  // a named constant (it outlives the step)
  std::string_view command;
  std::vector<Param> params;
};

class Connection {
 public:
  explicit Connection(std::string conninfo);
  // Given up at `give_up_at` (libpq's own connect_timeout is whole seconds, at least 2, per
  // address): Unavailable, or DeadlineExceeded when `request_deadline` says that time is
  // the request's. The host's name is still resolved by libpq, without a bound of ours.
  Connection(const std::string& conninfo, std::chrono::steady_clock::time_point give_up_at, bool request_deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result exec(const Statement& st, const std::vector<Param>& params);
  Result exec_raw(std::string_view sql);  // for migrations and BEGIN/COMMIT only
  // All steps in one round trip (libpq's pipeline mode); a result per step. Throws the first
  // failing step's error (failed_step() says which); the server skips the steps after it.
  std::vector<Result> exec_pipeline(const std::vector<Step>& steps);
  [[nodiscard]] std::size_t failed_step() const { return failed_step_; }
  [[nodiscard]] bool healthy() const;
  // For a connection with nothing outstanding (an idle one in the pool): whether the server
  // has ended it (a restart, a failover, pg_terminate_backend), which leaves its reason and
  // the close waiting on the socket. Nothing else arrives unasked on a connection that
  // listens to no channel. One non-blocking peek; a connection that is not healthy is ended.
  [[nodiscard]] bool ended_by_server() const;
  [[nodiscard]] PGconn* native() { return conn_; }

 private:
  void opened();  // after the connect: throws Unavailable unless it succeeded
  void mark_if_broken(std::string& sqlstate);
  [[nodiscard]] bool is_prepared(const std::string& name) const;
  // `cancelled`: the statement was cancelled at the request's deadline (DeadlineExceeded).
  [[noreturn]] void fail(const std::string& what, const PGresult* r, bool cancelled = false);
  [[noreturn]] void lost(const std::string& what);
  PGconn* conn_ = nullptr;
  PGcancel* cancel_ = nullptr;  // for a statement still running at its deadline
  std::vector<std::string> prepared_;  // names prepared on this connection
  std::size_t failed_step_ = 0;
  bool broken_ = false;
};

struct PoolOptions {
  std::string conninfo;
  std::size_t size = 8;
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds statement_timeout{5000};
  // How long sent data (a statement, a keepalive probe, a cancel's connect) may stay
  // unanswered by the server's host before the connection is given up (tcp_liveness_options).
  std::chrono::milliseconds tcp_user_timeout{5000};
  // Connections open_at_start() opens before the service says it is ready (at most size).
  std::size_t open_at_start = 0;
};

class Pool;

// A leased connection, returned to the pool on destruction (dropped if it broke).
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
  ~Lease();
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&& other) noexcept;
  void reset();  // gives the connection back now
  Connection* operator->() { return conn_.get(); }
  Connection& operator*() { return *conn_; }
  explicit operator bool() const { return conn_ != nullptr; }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
};

class Pool {
 public:
  explicit Pool(PoolOptions opts);
  ~Pool();
  // Waits up to acquire_timeout, and never past the current request's deadline; connects
  // lazily. Throws Unavailable when no connection comes in time, DeadlineExceeded when the
  // deadline came first (or had passed already: a request nobody waits for takes none).
  Lease acquire();
  // Opens connections until options().open_at_start are open, so that the first requests
  // after a start do not each wait for a connection (and a server process) of their own.
  // Returns how many it opened; throws what connecting throws (those opened stay).
  std::size_t open_at_start();
  [[nodiscard]] std::size_t size() const { return opts_.size; }
  [[nodiscard]] std::size_t idle() const;
  [[nodiscard]] std::size_t in_use() const;  // leased, or being opened for a lease
  [[nodiscard]] std::size_t open() const;    // idle() + in_use(), read at one instant
  [[nodiscard]] const PoolOptions& options() const { return opts_; }

 private:
  friend class Lease;
  void release(std::unique_ptr<Connection> c);
  // With `lock` held and a place free (open_ < size): counts the place, connects with the
  // lock released, and gives the place back if connecting fails. Returns unlocked.
  std::unique_ptr<Connection> connect(std::unique_lock<std::mutex>& lock);
  PoolOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

enum class Isolation { ReadCommitted, RepeatableRead, Serializable };

// A transaction that must be committed explicitly (the destructor rolls back otherwise).
// BEGIN travels with the first statement, and statements queued with exec_later() with the
// next one or with the COMMIT: a transaction costs no round trip of its own.
class Transaction {
 public:
  explicit Transaction(Pool& pool, Isolation iso = Isolation::ReadCommitted);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Result exec(const Statement& st, const std::vector<Param>& params = {});
  // A statement whose result nobody reads (an INSERT that must simply happen): it goes to the
  // server with the next exec() or the COMMIT, and its error is thrown there.
  void exec_later(const Statement& st, std::vector<Param> params = {});
  // Sends BEGIN and what exec_later() queued now (a caller that must know they succeeded).
  void flush();
  // Runs fn right after a successful COMMIT, never after a rollback: a wake-up for whoever
  // waits on what this transaction makes visible. fn must not throw.
  void after_commit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }
  // As after_commit(), for a plain function that runs once however often it is registered:
  // a transaction that enqueues ten events wakes the relays once.
  void after_commit_once(void (*fn)()) {
    if (std::find(after_commit_once_.begin(), after_commit_once_.end(), fn) == after_commit_once_.end()) {
      after_commit_once_.push_back(fn);
    }
  }
  // Throws, running no hook, when nothing can have been committed: the transaction lost its
  // connection and no new one came (its queued statements are gone), or a COMMIT was answered
  // ROLLBACK. Once committed, the transaction takes nothing more (a second commit, an exec).
  void commit();
  // After a failed exec(): the error came from a statement exec_later() queued before it
  // (or from BEGIN), not from the exec's own statement.
  [[nodiscard]] bool earlier_statement_failed() const { return earlier_failed_; }
  Connection& connection() {  // raw access: everything queued is sent first
    flush();
    return *lease_;
  }

 private:
  Result send(std::vector<Step> tail, bool commits);  // callers have checked require_usable()
  void require_usable() const;
  Pool& pool_;
  Isolation iso_;
  Lease lease_;
  bool begun_ = false;
  bool done_ = false;
  bool earlier_failed_ = false;
  std::vector<Step> queued_;
  std::vector<std::function<void()>> after_commit_;
  std::vector<void (*)()> after_commit_once_;
};

// One statement outside an explicit transaction (autocommit).
Result exec(Pool& pool, const Statement& st, const std::vector<Param>& params = {});

// Runs fn(Transaction&) and retries a bounded number of times on serialization failures
// and deadlocks; fn must commit.
// Sleeps before retry `attempt` (1, 2, ...): exponential from 5 ms with full jitter, so
// the loser of a conflict does not collide again with a winner that is still committing.
void retry_pause(int attempt);

template <class Fn>
auto with_retry(Pool& pool, Isolation iso, Fn&& fn, int attempts = 8) {
  for (int i = 1;; ++i) {
    try {
      Transaction tx(pool, iso);
      return fn(tx);
    } catch (const Error& e) {
      if (!e.serialization_failure() || i >= attempts) throw;
    }
    retry_pause(i);
  }
}

std::string conninfo(const std::string& host, int port, const std::string& db, const std::string& user,
                     const std::string& password, std::chrono::milliseconds connect_timeout,
                     std::chrono::milliseconds tcp_user_timeout);

// Conninfo options that bound how long a TCP connection to a host that vanished (a
// partition, a node gone without a reset) goes unnoticed: keepalive probes after 5 s of
// silence, and TCP_USER_TIMEOUT, which drops the connection once data or a probe has gone
// unanswered that long. The kernel's defaults left a statement in flight waiting ~12 min
// (and its thread and connection with it). libpq 15 gives the cancel request's connection
// the same TCP_USER_TIMEOUT, so a cancel sent to such a host is bounded too instead of
// blocking the deadline watchdog for the kernel's ~2 min of SYN retries. A long statement
// is not affected: a live host answers probes while its backend works. Ignored for unix
// sockets. Returns " key=value ..." to append to a conninfo.
std::string tcp_liveness_options(std::chrono::milliseconds tcp_user_timeout);

// The server's side of it, as "-c name=value ..." for a conninfo's `options` (conninfo puts
// them there). Without them a backend whose client host vanished (power, a partition) kept
// the client's row locks, or the migration lock and a table's ACCESS EXCLUSIVE lock, for the
// kernel's ~2 h before its first keepalive probe. idle_in_transaction_session_timeout (60 s)
// backs them up for a live client stuck between two trips of a transaction (none of ours
// idles in one for more than a deadline): its session ends and its locks go with it. The
// relay's locked outbox rows rely on it too.
std::string server_liveness_settings(std::chrono::milliseconds tcp_user_timeout);

// Conninfo options that keep libpq from negotiating what we never use: no GSSAPI encryption
// (we authenticate with SCRAM, or peer over a local socket; probing for Kerberos credentials loads and initialises
// krb5 on every connect), and no TLS to a loopback host (nothing to protect, and the
// handshake costs a round trip). PGGSSENCMODE / PGSSLMODE, when set, still decide.
// Returns "" or " key=value ..." to append to a conninfo.
std::string transport_options(std::string_view host);

}  // namespace sales::pg

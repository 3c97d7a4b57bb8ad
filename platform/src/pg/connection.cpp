#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <charconv>

#include "cancel_at_deadline.hpp"
#include "param_values.hpp"
#include "sales/log/log.hpp"
#include "sales/net/socket_state.hpp"
#include "sales/net/tcp_liveness.hpp"
#include "sales/pg/pool.hpp"

namespace sales::pg {

Result::Result(PGresult* r) : res_(r) {}
Result::~Result() {
  if (res_) PQclear(res_);
}
Result::Result(Result&& o) noexcept : res_(o.res_) { o.res_ = nullptr; }
Result& Result::operator=(Result&& o) noexcept {
  if (this != &o) {
    if (res_) PQclear(res_);
    res_ = o.res_;
    o.res_ = nullptr;
  }
  return *this;
}

int Result::rows() const { return res_ ? PQntuples(res_) : 0; }

std::string_view Result::command() const {
  std::string_view tag = res_ ? PQcmdStatus(res_) : "";
  return tag.substr(0, tag.find(' '));
}

std::int64_t Result::affected() const {
  const char* n = res_ ? PQcmdTuples(res_) : "";
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

bool Result::is_null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string_view Result::text(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

std::int64_t Result::int64(int row, int col) const {
  auto t = text(row, col);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size()) {
    throw Error("column " + std::to_string(col) + " is not an integer: '" + std::string(t) + "'", "");
  }
  return v;
}

std::vector<std::int64_t> Result::int64_column(int col) const {
  std::vector<std::int64_t> values;
  values.reserve(static_cast<std::size_t>(rows()));
  for (int i = 0; i < rows(); ++i) values.push_back(int64(i, col));
  return values;
}

std::optional<std::string> Result::opt_str(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return str(row, col);
}

Param param(std::int64_t v) { return std::to_string(v); }
Param param(std::string_view v) { return std::string(v); }

std::string tcp_liveness_options(std::chrono::milliseconds tcp_user_timeout) {
  return " keepalives=1 keepalives_idle=" + std::to_string(net::kKeepaliveIdleSeconds) +
         " keepalives_interval=" + std::to_string(net::kKeepaliveIntervalSeconds) +
         " keepalives_count=" + std::to_string(net::kKeepaliveProbes) +
         " tcp_user_timeout=" + std::to_string(tcp_user_timeout.count());
}

std::string server_liveness_settings(std::chrono::milliseconds tcp_user_timeout) {
  return "-c tcp_keepalives_idle=" + std::to_string(net::kKeepaliveIdleSeconds) +
         " -c tcp_keepalives_interval=" + std::to_string(net::kKeepaliveIntervalSeconds) +
         " -c tcp_keepalives_count=" + std::to_string(net::kKeepaliveProbes) +
         " -c tcp_user_timeout=" + std::to_string(tcp_user_timeout.count()) +
         " -c idle_in_transaction_session_timeout=60000";
}


std::string conninfo(const std::string& host, int port, const std::string& db, const std::string& user,
                     const std::string& password, std::chrono::milliseconds connect_timeout,
                     std::chrono::milliseconds tcp_user_timeout) {
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "'";
  };
  long secs = std::max<long>(1, static_cast<long>((connect_timeout.count() + 999) / 1000));
  return "host=" + quote(host) + " port=" + std::to_string(port) + " dbname=" + quote(db) + " user=" + quote(user) +
         " password=" + quote(password) + " connect_timeout=" + std::to_string(secs) +
         " application_name=sales options='-c client_min_messages=warning " +
         server_liveness_settings(tcp_user_timeout) + "'" + tcp_liveness_options(tcp_user_timeout);
}

namespace {
std::string sqlstate_of(const PGresult* r) {
  const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

// The server's warnings (client_min_messages=warning) into the service's log instead of
// libpq's raw stderr. A COMMIT whose wait for the synchronous standby was cut short (by
// statement_timeout) committed on the primary alone: losing the primary now loses it.
void log_notice(void*, const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string_view message = primary ? primary : PQresultErrorMessage(r);
  if (message.find("synchronous replication") != std::string_view::npos) {
    log::error("PostgreSQL committed a transaction on the primary without its synchronous standby ({}: {}); it is "
               "lost if the primary is lost before the standby catches up", state ? state : "", message);
    return;
  }
  log::warn("PostgreSQL {}: {}", state ? state : "", message);
}
}  // namespace

Connection::Connection(std::string conninfo) {
  conn_ = PQconnectdb(conninfo.c_str());
  opened();
}

Connection::Connection(const std::string& conninfo, std::chrono::steady_clock::time_point give_up_at,
                       bool request_deadline) {
  conn_ = PQconnectStart(conninfo.c_str());
  if (!conn_) throw std::bad_alloc();
  // PQconnectdb's loop (libpq's documented one: wait for the socket as the last poll asked),
  // with our time limit instead of connect_timeout.
  auto polled = PGRES_POLLING_WRITING;
  while (PQstatus(conn_) != CONNECTION_BAD && polled != PGRES_POLLING_OK && polled != PGRES_POLLING_FAILED) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(give_up_at - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      PQfinish(conn_);
      conn_ = nullptr;
      if (request_deadline) {
        throw DeadlineExceeded("the request's deadline passed while a database connection was opened", Error::kQueryCanceled);
      }
      throw Unavailable("cannot connect to PostgreSQL: no answer in time", "08001");
    }
    pollfd p{PQsocket(conn_), static_cast<short>(polled == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (ready > 0 || (ready < 0 && errno != EINTR)) polled = PQconnectPoll(conn_);
  }
  opened();
}

void Connection::opened() {
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    while (!msg.empty() && (msg.back() == '\n')) msg.pop_back();
    throw Unavailable("cannot connect to PostgreSQL: " + msg, "08001");
  }
  cancel_ = PQgetCancel(conn_);
  PQsetNoticeReceiver(conn_, &log_notice, nullptr);
}

Connection::~Connection() {
  if (cancel_) PQfreeCancel(cancel_);
  if (conn_) PQfinish(conn_);
}

void Connection::mark_if_broken(std::string& sqlstate) {
  if (PQstatus(conn_) == CONNECTION_OK) return;
  broken_ = true;
  if (sqlstate.empty()) sqlstate = Error::kNoServer;  // no answer at all: the connection is gone
}

bool Connection::healthy() const { return conn_ && !broken_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::ended_by_server() const {
  if (!healthy()) return true;
  const int fd = PQsocket(conn_);
  return fd < 0 || !net::open_and_quiet(fd);
}

bool Connection::is_prepared(const std::string& name) const {
  return std::find(prepared_.begin(), prepared_.end(), name) != prepared_.end();
}

void Connection::fail(const std::string& what, const PGresult* r, bool cancelled) {
  std::string state = sqlstate_of(r);
  mark_if_broken(state);
  const char* msg = r ? PQresultErrorMessage(r) : "";
  if (cancelled && state == Error::kQueryCanceled) {
    throw DeadlineExceeded("the request's deadline passed while its SQL ran (" + what + "); cancelled", state);
  }
  const char* constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  throw Error(what + ": " + (*msg ? msg : PQerrorMessage(conn_)), state, constraint ? constraint : "", broken_);
}

Result Connection::exec(const Statement& st, const std::vector<Param>& params) {
  std::string name(st.name);
  const std::array<std::string_view, 1> sql{st.sql};  // outside a transaction, it commits itself
  const bool may_commit = detail::trip_may_commit(PQtransactionStatus(conn_) != PQTRANS_IDLE, sql);
  detail::CancelAtDeadline cancel(may_commit ? nullptr : cancel_);
  const bool per_call = st.plan == Plan::per_call;
  if (!per_call && !is_prepared(name)) {
    Result prep(PQprepare(conn_, name.c_str(), std::string(st.sql).c_str(), 0, nullptr));
    if (PQresultStatus(prep.res_) != PGRES_COMMAND_OK) fail("prepare " + name, prep.res_, cancel.fired());
    prepared_.push_back(name);
    // The deadline passed during the prepare: the statement is not started at all.
    if (cancel.fired()) {
      throw DeadlineExceeded("the request's deadline passed while " + name + " was prepared", Error::kQueryCanceled);
    }
  }
  auto values = param_values(params);
  const int n = static_cast<int>(values.size());
  Result r(per_call ? PQexecParams(conn_, std::string(st.sql).c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)
                    : PQexecPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, 0));
  auto status = PQresultStatus(r.res_);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(name, r.res_, cancel.fired());
  return r;
}

Result Connection::exec_raw(std::string_view sql) {
  Result r(PQexec(conn_, std::string(sql).c_str()));
  auto status = PQresultStatus(r.res_);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(std::string(sql.substr(0, sql.find(' '))), r.res_, false);
  return r;
}

}  // namespace sales::pg

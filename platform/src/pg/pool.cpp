#include "sales/pg/pool.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include "cancel_at_deadline.hpp"
#include "sales/net/loopback.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::pg {

Lease::~Lease() { reset(); }

void Lease::reset() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    reset();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
  }
  return *this;
}

Pool::Pool(PoolOptions opts) : opts_(std::move(opts)) {}
Pool::~Pool() = default;

Lease Pool::acquire() {
  std::unique_lock lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  bool cut = false;
  const auto deadline = resilience::give_up_at(now, opts_.acquire_timeout, &cut);
  if (cut && deadline <= now) {
    throw DeadlineExceeded("the request's deadline passed before it asked for a database connection", Error::kQueryCanceled);
  }
  while (true) {
    while (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      // Its first statement would fail with a lost connection: a 503 for a request that
      // had done nothing wrong, after every restart of the server.
      if (!c->ended_by_server()) return Lease(this, std::move(c));
      --open_;
    }
    if (open_ < opts_.size) return Lease(this, connect(lock));
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= opts_.size) {
      if (cut) throw DeadlineExceeded("no database connection free before the request's deadline", Error::kQueryCanceled);
      throw Unavailable("no database connection free within " + std::to_string(opts_.acquire_timeout.count()) + " ms",
                        Error::kTooManyConnections);
    }
  }
}

std::unique_ptr<Connection> Pool::connect(std::unique_lock<std::mutex>& lock) {
  ++open_;
  lock.unlock();
  try {
    // A request's connect ends at its deadline: its thread and this slot are not held for
    // libpq's seconds after the gateway has answered 504.
    bool cut = false;
    const auto give_up = resilience::give_up_at(std::chrono::steady_clock::now(), opts_.connect_timeout, &cut);
    auto c = std::make_unique<Connection>(opts_.conninfo, give_up, cut);
    c->exec_raw("SET statement_timeout = " + std::to_string(opts_.statement_timeout.count()));
    return c;
  } catch (...) {
    lock.lock();
    --open_;
    cv_.notify_one();
    lock.unlock();
    throw;
  }
}

std::size_t Pool::open_at_start() {
  std::size_t opened = 0;
  std::unique_lock lock(mu_);
  while (open_ < std::min(opts_.open_at_start, opts_.size)) {
    auto c = connect(lock);
    lock.lock();
    idle_.push_back(std::move(c));
    ++opened;
    cv_.notify_one();
  }
  return opened;
}

void Pool::release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  // A connection that broke or was left inside a transaction is not reused.
  if (c->healthy() && PQtransactionStatus(c->native()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
    if (!c->healthy()) {
      // The server may have gone away (a restart, a failover), or ended this session alone
      // (pg_terminate_backend, a protocol error): the idle ones it ended go, not the others.
      auto before = idle_.size();
      std::erase_if(idle_, [](const std::unique_ptr<Connection>& i) { return i->ended_by_server(); });
      open_ -= before - idle_.size();
    }
  }
  cv_.notify_all();
}

std::string transport_options(std::string_view host) {
  bool loopback = net::is_loopback_host(host) || host.starts_with("/");  // "/": a unix socket's directory
  // Empty is unset, as for every setting; libpq itself would take PGSSLMODE= as the mode ""
  // and refuse to connect, so a value given here stands in for it (libpq's default, prefer,
  // off loopback).
  const char* gss = std::getenv("PGGSSENCMODE");
  const char* ssl = std::getenv("PGSSLMODE");
  std::string out;
  if (!gss || !*gss) out += " gssencmode=disable";
  if (loopback && (!ssl || !*ssl)) out += " sslmode=disable";
  if (!loopback && ssl && !*ssl) out += " sslmode=prefer";
  return out;
}

void retry_pause(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int cap_ms = 5 << std::min(attempt - 1, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, cap_ms)(rng)));
}

std::size_t Pool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

std::size_t Pool::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

std::size_t Pool::in_use() const {
  std::lock_guard lock(mu_);
  return open_ - idle_.size();
}

namespace {
const char* begin_sql(Isolation iso) {
  switch (iso) {
    case Isolation::RepeatableRead: return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case Isolation::Serializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    default: return "BEGIN";
  }
}
}  // namespace

Transaction::Transaction(Pool& pool, Isolation iso) : pool_(pool), iso_(iso), lease_(pool.acquire()) {}

Transaction::~Transaction() {
  // Not when the server has ended it already (a COMMIT answered ROLLBACK): a round trip for
  // a warning.
  if (begun_ && !done_ && PQtransactionStatus(lease_->native()) != PQTRANS_IDLE) {
    try {
      lease_->exec_raw("ROLLBACK");
    } catch (...) {
      // The connection is dropped by the pool when it is not idle afterwards.
    }
  }
}

void Transaction::require_usable() const {
  // Misuse of a finished transaction would run in autocommit, or send COMMIT outside one
  // (answered "COMMIT" with a warning): its hooks would run for nothing committed.
  if (done_) throw std::logic_error("pg::Transaction used after its commit");
  if (!lease_) throw Error("the transaction lost its connection and got no other: nothing of it was committed", Error::kNoServer);
}

// BEGIN (on the first trip), what was queued, then `tail`, in one round trip.
Result Transaction::send(std::vector<Step> tail, bool commits) {
  std::vector<Step> steps;
  const bool first_trip = !begun_;
  if (first_trip) steps.push_back({nullptr, begin_sql(iso_), {}});
  for (auto& q : queued_) steps.push_back(std::move(q));
  for (auto& t : tail) steps.push_back(std::move(t));
  if (commits) steps.push_back({nullptr, "COMMIT", {}});
  const std::size_t own = steps.size() - tail.size() - (commits ? 1 : 0);  // the first of `tail`
  queued_.clear();
  begun_ = true;
  earlier_failed_ = false;
  auto run = [&]() -> Result {
    if (steps.size() == 1) {
      if (steps[0].st) return lease_->exec(*steps[0].st, steps[0].params);
      // exec_raw refuses nothing (a ROLLBACK must run); exec and exec_pipeline refuse a
      // statement past the deadline themselves, so only a lone BEGIN or COMMIT is checked here.
      detail::refuse_past_deadline();
      return lease_->exec_raw(steps[0].command);
    }
    try {
      return std::move(lease_->exec_pipeline(steps).back());
    } catch (const Error&) {
      earlier_failed_ = lease_->failed_step() < own;
      throw;
    }
  };
  try {
    return run();
  } catch (const Error& e) {
    // An idle connection that died (server restart) fails the first trip; nothing ran, so
    // a fresh connection is safe — unless the trip held a COMMIT that may have landed.
    if (!first_trip || commits || !e.connection_lost()) throw;
    begun_ = false;  // if no connection comes, there is nothing to roll back
    lease_.reset();  // first, so the pool drops its other dead idle connections
    lease_ = pool_.acquire();
    begun_ = true;
    return run();
  }
}

Result Transaction::exec(const Statement& st, const std::vector<Param>& params) {
  require_usable();
  earlier_failed_ = false;
  if (begun_ && queued_.empty()) return lease_->exec(st, params);
  return send({{&st, {}, params}}, false);
}

void Transaction::exec_later(const Statement& st, std::vector<Param> params) {
  require_usable();
  queued_.push_back({&st, {}, std::move(params)});
}

void Transaction::flush() {
  require_usable();
  if (!begun_ || !queued_.empty()) send({}, false);
}

void Transaction::commit() {
  require_usable();
  // A statement failed on an earlier trip and the caller went on (caught the error and did
  // not rethrow it): PostgreSQL answers this COMMIT with success and the tag ROLLBACK.
  // Counted as committed, a consumer would acknowledge events whose effects are gone.
  if ((begun_ || !queued_.empty()) && send({}, true).command() != "COMMIT") {
    throw Error("COMMIT rolled back: a statement of the transaction had failed", Error::kInFailedTransaction);
  }
  done_ = true;
  for (auto& fn : after_commit_) fn();
  for (auto* fn : after_commit_once_) fn();
}

Result exec(Pool& pool, const Statement& st, const std::vector<Param>& params) {
  auto lease = pool.acquire();
  return lease->exec(st, params);
}

}  // namespace sales::pg

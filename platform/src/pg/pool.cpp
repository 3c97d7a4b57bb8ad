#include "sales/pg/pool.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>
#include <thread>

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
  auto deadline = std::chrono::steady_clock::now() + opts_.acquire_timeout;
  while (true) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    if (open_ < opts_.size) {
      ++open_;
      lock.unlock();
      try {
        auto c = std::make_unique<Connection>(opts_.conninfo);
        std::string timeout = "SET statement_timeout = " + std::to_string(opts_.statement_timeout.count());
        c->exec_raw(timeout);
        return Lease(this, std::move(c));
      } catch (...) {
        lock.lock();
        --open_;
        cv_.notify_one();
        throw;
      }
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= opts_.size) {
      throw Unavailable("no database connection free within " + std::to_string(opts_.acquire_timeout.count()) + " ms",
                        "53300");
    }
  }
}

void Pool::release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  // A connection that broke or was left inside a transaction is not reused.
  if (c->healthy() && PQtransactionStatus(c->native()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
    if (!c->healthy()) {
      // The server went away (restart, failover): the idle ones are as dead as this one.
      open_ -= idle_.size();
      idle_.clear();
    }
  }
  cv_.notify_all();
}

std::string transport_options(std::string_view host) {
  bool loopback = host == "localhost" || host == "::1" || host.starts_with("127.") || host.starts_with("/");
  std::string out;
  if (!std::getenv("PGGSSENCMODE")) out += " gssencmode=disable";
  if (loopback && !std::getenv("PGSSLMODE")) out += " sslmode=disable";
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

Transaction::Transaction(Pool& pool, Isolation iso) : lease_(pool.acquire()) {
  try {
    lease_->exec_raw(begin_sql(iso));
  } catch (const Error& e) {
    if (!e.connection_lost()) throw;
    // An idle connection that died (server restart): nothing ran yet, so a fresh one is safe.
    lease_.reset();  // first, so the pool drops its other dead idle connections
    lease_ = pool.acquire();
    lease_->exec_raw(begin_sql(iso));
  }
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      lease_->exec_raw("ROLLBACK");
    } catch (...) {
      // The connection is dropped by the pool when it is not idle afterwards.
    }
  }
}

Result Transaction::exec(const Statement& st, const std::vector<Param>& params) { return lease_->exec(st, params); }

void Transaction::commit() {
  done_ = true;
  lease_->exec_raw("COMMIT");
  for (auto& fn : after_commit_) fn();
}

Result exec(Pool& pool, const Statement& st, const std::vector<Param>& params) {
  auto lease = pool.acquire();
  return lease->exec(st, params);
}

}  // namespace sales::pg

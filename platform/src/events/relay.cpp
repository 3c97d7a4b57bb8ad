#include "sales/events/relay.hpp"

#include <algorithm>
#include <libpq-fe.h>
#include <poll.h>

#include <boost/json/parse.hpp>

#include "backoff.hpp"
#include "sales/log/log.hpp"
#include "sales/pg/pool.hpp"
#include "statements.hpp"
#include "wakeup.hpp"

namespace sales::events {
namespace {

// Headers were written by enqueue(); a row edited by hand must still not block the
// outbox, so anything unreadable is published without headers.
amqp::Headers parse_headers(std::string_view text) {
  amqp::Headers out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [key, value] : v.get_object()) {
    if (value.is_string()) out[std::string(key)] = std::string(value.get_string());
  }
  return out;
}

// The types a declared subscription names exactly (patterns are not checked), sorted.
std::vector<std::string> mandatory_types(const std::vector<Subscription>& declare) {
  std::vector<std::string> types;
  for (const auto& s : declare) types.insert(types.end(), s.routing_keys.begin(), s.routing_keys.end());
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

}  // namespace

OutboxRelay::OutboxRelay(std::string pg_conninfo, amqp::ConnectionParams broker, RelayOptions opts,
                         metrics::Registry& registry)
    : conninfo_(std::move(pg_conninfo)),
      opts_(std::move(opts)),
      mandatory_types_(mandatory_types(opts_.declare)),
      amqp_(std::move(broker)),
      published_(registry.counter("sales_outbox_published_total", "Events published from the outbox and confirmed")),
      failures_(registry.counter("sales_outbox_publish_failures_total",
                                 "Relay rounds that failed (broker or database); rows are retried")),
      backlog_(registry.gauge("sales_outbox_backlog", "Outbox rows waiting to be published")),
      connected_gauge_(registry.gauge("sales_outbox_relay_connected", "1 when the relay has database and broker")),
      gather_(opts_.gather_window) {
  wakeup_ = std::make_unique<detail::RelayWakeup>();  // before start(): no commit's wake-up is missed
}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

void OutboxRelay::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wakeup_->wake();  // not after a whole poll interval
  thread_.join();
}

void OutboxRelay::set_connected(bool up) {
  connected_.store(up);
  connected_gauge_.set(up ? 1 : 0);
}

void OutboxRelay::run(std::stop_token st) {
  detail::Backoff backoff(opts_.backoff_initial, opts_.backoff_max);
  while (!st.stop_requested()) {
    try {
      ensure_connected();
      set_connected(true);
      std::size_t published = publish_batch();
      backoff.reset();
      if (published >= static_cast<std::size_t>(opts_.batch_size)) continue;  // more are waiting
      if (std::chrono::steady_clock::now() >= next_backlog_refresh_) refresh_backlog();
      amqp_.service_io();  // heartbeats while idle
      if (wait_for_work(st)) gather(st);
    } catch (const std::exception& e) {
      failures_.inc();
      set_connected(false);
      auto pause = backoff.next();
      log::warn("outbox relay: {}; retrying in {} ms", e.what(), pause.count());
      // A connection left inside a transaction (rollback failed) is not trusted again.
      if (pg_ && (!pg_->healthy() || PQtransactionStatus(pg_->native()) != PQTRANS_IDLE)) pg_.reset();
      refresh_backlog_while_failing();
      detail::sleep_for(st, pause);
    }
  }
  amqp_.close();
  pg_.reset();
  set_connected(false);
}

void OutboxRelay::ensure_connected() {
  if (!pg_ || !pg_->healthy()) {
    pg_.reset();
    auto conn = std::make_unique<pg::Connection>(conninfo_);
    conn->exec_raw("SET statement_timeout = " + std::to_string(opts_.statement_timeout.count()));
    // This session only deletes published rows (and counts failed attempts). A delete lost
    // to a crash before the WAL writer flushed it re-sends events the consumers dedupe, so
    // its COMMIT need not wait for the flush; business transactions keep waiting.
    conn->exec_raw("SET synchronous_commit = off");
    // The outbox is small but churns: between two autovacuums its heap is mostly dead rows,
    // and the planner, seeing a handful of live ones, scans all of them for every batch. The
    // seq index finds the oldest rows and the published ones without reading the rest.
    conn->exec_raw("SET enable_seqscan = off");
    // A round stuck past its broker deadlines (amqp::ConnectionParams::tcp_user_timeout, the
    // confirm wait) loses its session to idle_in_transaction_session_timeout (60 s, set by
    // pg::conninfo), and the rows it held locked go to another relay.
    conn->exec_raw("LISTEN outbox");
    pg_ = std::move(conn);
  }
  if (!amqp_.is_open()) {
    amqp_.connect();
    amqp::declare_exchanges(amqp_, opts_.topology);
    for (const auto& sub : opts_.declare) {
      try {
        amqp::declare_consumer_topology(amqp_, sub.queue, sub.routing_keys, opts_.topology);
      } catch (const amqp::AmqpError& e) {
        // A queue declared elsewhere with other arguments must not stop every event.
        if (!amqp_.is_open()) throw;
        log::error("outbox relay: cannot declare queue {}: {}", sub.queue, e.what());
      }
    }
    log::info("outbox relay: connected to {}:{}", amqp_.params().host, amqp_.params().port);
  }
}

std::size_t OutboxRelay::publish_batch() {
  pg::Connection& db = *pg_;
  std::string seqs;
  try {
    // BEGIN with the SELECT, the DELETE with the COMMIT: two round trips a batch.
    auto rows = std::move(db.exec_pipeline({{nullptr, "BEGIN", {}},
                                            {&stmt::kLockBatch, {}, {pg::param(std::int64_t{opts_.batch_size})}}})
                              .back());
    if (rows.empty()) {
      db.exec_raw("COMMIT");
      return 0;
    }
    seqs = "{";
    for (int i = 0; i < rows.rows(); ++i) {
      amqp::OutgoingMessage msg;
      msg.exchange = opts_.topology.events_exchange;
      msg.message_id = rows.str(i, 1);
      msg.type = rows.str(i, 2);
      msg.routing_key = rows.str(i, 3);
      msg.body = rows.str(i, 4);
      msg.headers = parse_headers(rows.text(i, 5));
      msg.mandatory = std::binary_search(mandatory_types_.begin(), mandatory_types_.end(), msg.routing_key);
      amqp_.publish(msg);
      if (i > 0) seqs += ',';
      seqs += rows.text(i, 0);
    }
    seqs += '}';
    // One wait for the whole batch: the broker confirms in bulk.
    try {
      amqp_.wait_for_confirms(opts_.confirm_timeout);
    } catch (const amqp::AmqpError&) {
      // Nacked, or returned because no queue took it: the next try starts from a new
      // connection, which declares the queues and bindings again.
      amqp_.close();
      throw;
    }
    db.exec_pipeline({{&stmt::kDeletePublished, {}, {pg::param(seqs)}}, {nullptr, "COMMIT", {}}});
    published_.inc(static_cast<std::uint64_t>(rows.rows()));
    return static_cast<std::size_t>(rows.rows());
  } catch (...) {
    if (db.healthy()) {
      try {
        db.exec_raw("ROLLBACK");
        if (seqs.size() > 2) db.exec(stmt::kCountAttempt, {pg::param(seqs)});
      } catch (const std::exception& e) {
        log::warn("outbox relay: rollback failed: {}", e.what());
      }
    }
    throw;
  }
}

bool OutboxRelay::wait_for_work(std::stop_token st) {
  PGconn* native = pg_->native();
  // Notifications that arrived while we were busy mean there is work now.
  bool woken = false;
  while (PGnotify* n = PQnotifies(native)) {
    PQfreemem(n);
    woken = true;
  }
  if (woken || st.stop_requested()) return woken;
  // A wake-up that came during the round just published is consumed here: at worst one
  // extra round finds nothing.
  pollfd pfd[2] = {{wakeup_->fd(), POLLIN, 0}, {PQsocket(native), POLLIN, 0}};
  int rc = ::poll(pfd, 2, static_cast<int>(opts_.poll_interval.count()));
  if (rc <= 0) return false;
  if ((pfd[0].revents & POLLIN) != 0) wakeup_->drain();
  if (pfd[1].revents != 0) {
    if (PQconsumeInput(native) == 0) {
      throw pg::Error(std::string("outbox relay: LISTEN connection lost: ") + PQerrorMessage(native), "08006");
    }
    while (PGnotify* n = PQnotifies(native)) PQfreemem(n);
  }
  return true;
}

void OutboxRelay::gather(std::stop_token st) {
  auto wait = gather_.arrived(GatherWindow::Clock::now());
  if (wait > GatherWindow::Clock::duration::zero()) detail::sleep_for(st, wait);
}

void OutboxRelay::refresh_backlog() {
  auto r = pg_->exec(stmt::kBacklog, {});
  backlog_.set(static_cast<double>(r.int64(0, 0)));
  next_backlog_refresh_ = std::chrono::steady_clock::now() + opts_.backlog_refresh;
}

// While the broker is away the backlog is what operators watch grow, so it is counted on
// the database session that is still up, five times less often than while publishing (a
// count of a long outage's backlog reads all of it); a failure here only waits for the next
// attempt, and the session is given up only when it is gone.
void OutboxRelay::refresh_backlog_while_failing() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (!pg_ || now < next_backlog_refresh_) return;
  try {
    refresh_backlog();
  } catch (const std::exception& e) {
    log::debug("outbox relay: counting the backlog: {}", e.what());
    if (!pg_->healthy()) pg_.reset();
  }
  next_backlog_refresh_ = now + 5 * opts_.backlog_refresh;
}

}  // namespace sales::events

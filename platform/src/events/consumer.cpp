#include "sales/events/consumer.hpp"

#include <algorithm>

#include "backoff.hpp"
#include "consumer_counters.hpp"
#include "sales/events/moves.hpp"
#include "sales/events/outbox.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/log/log.hpp"
#include "sales/text/utf8.hpp"
#include "statements.hpp"

namespace sales::events {

std::uint64_t Consumer::deliveries_handled() const {
  return metrics_->consumed.value() + metrics_->duplicates.value() + metrics_->retried.value();
}

namespace {

// Reachable and migrated: a consumer started before the inbox exists must wait, not
// burn every message's attempts on "relation does not exist".
inline constexpr pg::Statement kPing{"events_ping", "SELECT 1 FROM inbox LIMIT 0"};

// PostgreSQL is unreachable: not the message's fault, so no attempt is spent on it.
class DatabaseDown : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool database_reachable(pg::Pool& pool) {
  try {
    pg::exec(pool, kPing);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

Dispatcher& Dispatcher::on(std::string type, Handler handler) {
  handlers_[std::move(type)] = std::move(handler);
  return *this;
}

std::vector<std::string> Dispatcher::types() const {
  std::vector<std::string> out;
  for (const auto& [type, handler] : handlers_) out.push_back(type);
  return out;
}

void Dispatcher::operator()(pg::Transaction& tx, const Envelope& e) const {
  auto it = handlers_.find(e.type);
  if (it == handlers_.end()) throw std::out_of_range("no handler for event type " + e.type);
  it->second(tx, e);
}


Consumer::Consumer(pg::Pool& pool, amqp::ConnectionParams broker, ConsumerOptions opts, Dispatcher dispatcher,
                   metrics::Registry& registry)
    : pool_(pool),
      opts_(std::move(opts)),
      dispatcher_(std::move(dispatcher)),
      amqp_(std::move(broker)),
      metrics_(std::make_unique<Counters>(registry, opts_.queue)),
      gather_(opts_.gather_window),
      lag_(std::make_shared<std::atomic<double>>(0)),
      parked_(std::make_shared<std::atomic<double>>(0)) {
  // The scrape runs on another thread and rabbitmq-c is not thread-safe: the consumer
  // thread refreshes the values, the callbacks only read them.
  registry.callback_gauge(
      "sales_events_consumer_lag", "Messages ready in the queue, not yet delivered",
      [lag = lag_] { return lag->load(); }, {{"queue", opts_.queue}});
  // What sales_events_dead_lettered_total counted since this process started, and every
  // earlier one: a restart must not hide an event waiting for an operator.
  registry.callback_gauge(
      "sales_events_dead_letter_messages", "Messages in the queue's dead-letter queue, waiting for an operator",
      [parked = parked_] { return parked->load(); }, {{"queue", opts_.queue}});
}

Consumer::~Consumer() { stop(); }

void Consumer::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

void Consumer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void Consumer::set_connected(bool up) {
  connected_.store(up);
  metrics_->connected.set(up ? 1 : 0);
}

void Consumer::run(std::stop_token st) {
  detail::Backoff backoff(opts_.backoff_initial, opts_.backoff_max);
  // While the database refuses writes, connecting works and the next delivery fails again:
  // the pauses keep growing until an event is handled, not each time the broker connects.
  bool database_refusing = false;
  while (!st.stop_requested()) {
    try {
      if (!amqp_.is_open()) {
        connect();
        if (!database_refusing) backoff.reset();
      }
      housekeeping();
      if (auto delivery = amqp_.next_delivery(opts_.poll_interval)) {
        // Whatever else the broker already sent (up to the prefetch) joins it, and under
        // steady traffic what arrives within the gather window too: one transaction and one
        // ack carry many events. After a quiet spell a batch starts at once.
        using Clock = GatherWindow::Clock;
        const auto arrived_at = Clock::now();
        const auto gather_until = arrived_at + gather_.arrived(arrived_at);
        std::vector<amqp::Delivery> batch;
        batch.push_back(std::move(*delivery));
        while (batch.size() < opts_.batch_max) {
          const auto left = std::chrono::duration_cast<std::chrono::microseconds>(gather_until - Clock::now());
          auto more = amqp_.next_delivery(left);  // past the window: only what already arrived
          if (!more) break;
          gather_.also_arrived(Clock::now());
          batch.push_back(std::move(*more));
        }
        handle_batch(batch);
        if (database_refusing) {
          database_refusing = false;
          backoff.reset();
        }
      }
    } catch (const std::exception& e) {
      database_refusing = dynamic_cast<const DatabaseDown*>(&e) != nullptr;
      set_connected(false);
      amqp_.close();  // the broker requeues what we hold unacked
      auto pause = backoff.next();
      log::warn("consumer {}: {}; reconnecting in {} ms", opts_.queue, e.what(), pause.count());
      detail::sleep_for(st, pause);
    }
  }
  amqp_.close();
  set_connected(false);
}

void Consumer::connect() {
  // Taking messages while PostgreSQL is down would only bounce them back.
  if (!database_reachable(pool_)) throw DatabaseDown("database unreachable or not migrated (no inbox table)");
  std::vector<std::string> keys = dispatcher_.types();
  for (auto& k : subscribed_types(opts_.queue)) keys.push_back(std::move(k));
  for (const auto& k : opts_.extra_routing_keys) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

  amqp_.connect();
  amqp::declare_consumer_topology(amqp_, opts_.queue, keys, opts_.topology);
  amqp_.consume(opts_.queue, opts_.prefetch);
  set_connected(true);
  log::info("consumer {}: consuming ({} routing keys)", opts_.queue, keys.size());
}

void Consumer::housekeeping() {
  auto now = std::chrono::steady_clock::now();
  if (now >= next_lag_refresh_) {
    next_lag_refresh_ = now + opts_.lag_refresh;
    lag_->store(static_cast<double>(amqp_.queue_message_count(opts_.queue)));
    parked_->store(static_cast<double>(amqp_.queue_message_count(amqp::dead_letter_queue(opts_.queue))));
  }
  if (now >= next_prune_) {
    // One bounded DELETE per turn of the loop, between deliveries: a backlog of millions of
    // rows (the first prune after a long stop) never keeps the loop from the broker for
    // long, whose heartbeats it also answers; past ~2 missed ones the broker would close the
    // connection and requeue what we hold.
    next_prune_ = now + opts_.prune_interval;
    try {
      const auto removed = prune_inbox(pool_, opts_.queue, opts_.inbox_retention, 1);
      pruned_ += removed;
      if (removed >= kInboxPruneBatch) {
        next_prune_ = now;  // more to do: the next turn
      } else if (pruned_ > 0) {
        log::info("consumer {}: pruned {} inbox rows", opts_.queue, pruned_);
        pruned_ = 0;
      }
    } catch (const std::exception& e) {
      log::warn("consumer {}: inbox prune failed: {}", opts_.queue, e.what());
    }
  }
}

Envelope Consumer::envelope_of(const amqp::Delivery& d) {
  Envelope env = parse(d.body);
  env.trace.traceparent = d.header_string(std::string(kTraceparentHeader)).value_or("");
  env.trace.request_id = d.header_string(std::string(kRequestIdHeader)).value_or("");
  env.failed_attempts = static_cast<int>(std::clamp<std::int64_t>(d.header_int(std::string(kAttemptsHeader)).value_or(0), 0, 1 << 20));
  return env;
}

void Consumer::handle(const amqp::Delivery& d) {
  const auto started = std::chrono::steady_clock::now();
  Envelope env;
  try {
    env = envelope_of(d);
  } catch (const InvalidEnvelope& e) {
    log::warn("consumer {}: poison message (id '{}', routing key '{}') sent to the DLQ: {}", opts_.queue,
              d.message_id, d.routing_key, e.what());
    dead_letter(d, e.what());
    metrics_->poison.inc();
    return;
  }
  if (!dispatcher_.handles(env.type)) {
    // The queue is bound to the type, so some version handles it: during a rolling update
    // the replicas of the version before share the queue with the new ones, and an old
    // replica that acknowledged its share would lose those events. A retry copy may reach a
    // replica that handles it; the DLQ keeps it if none ever does.
    metrics_->unhandled.inc();
    retry_or_dead_letter(d, "no handler for " + env.type + " in this version of the consumer");
    return;
  }

  log::RequestScope request_scope(env.trace.request_id);
  TraceScope trace_scope(env.trace);
  auto apply = [&](bool fast) {
    return pg::with_retry(pool_, opts_.isolation, [&](pg::Transaction& tx) {
      amqp_.keep_alive();  // each try may follow a long wait on a lock
      if (fast) {
        tx.exec_later(stmt::kInsertInboxNew, {pg::param(opts_.queue), pg::param(env.id)});
      } else if (tx.exec(stmt::kInsertInbox, {pg::param(opts_.queue), pg::param(env.id)}).affected() == 0) {
        return false;  // handled before: roll back, change nothing
      }
      dispatcher_(tx, env);
      tx.commit();
      return true;
    });
  };
  bool applied = false;
  try {
    try {
      applied = apply(true);
    } catch (const pg::Error& e) {
      if (!stmt::needs_careful_path(e)) throw;  // the handler's own failure: settled below, not run again
      applied = apply(false);
    }
  } catch (...) {
    return settle_failure(d, env, std::current_exception());
  }
  amqp_.ack(d.delivery_tag);  // only after COMMIT: a crash before this means redelivery
  (applied ? metrics_->consumed : metrics_->duplicates).inc();
  metrics_->handle_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void Consumer::settle_failure(const amqp::Delivery& d, const Envelope& env, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const PoisonEvent& e) {
    log::warn("consumer {}: event {} ({}) cannot be applied, sent to the DLQ: {}", opts_.queue, env.id, env.type,
              e.what());
    dead_letter(d, e.what());
    metrics_->poison.inc();
    return;
  } catch (const pg::Error& e) {
    if (e.data_exception()) {
      // The event's data is bad for the database (an impossible date, a number out of
      // range): no retry can change that.
      log::warn("consumer {}: event {} ({}) has data the database refuses, sent to the DLQ: {}", opts_.queue, env.id,
                env.type, e.what());
      dead_letter(d, e.what());
      metrics_->poison.inc();
      return;
    }
    // An empty sqlstate may also be a handler's own misuse: only a failed probe proves the
    // database is gone, so a bug cannot stall the queue in a reconnect loop.
    if (stmt::database_failure(e) && !database_reachable(pool_)) throw DatabaseDown(e.what());
    if (stmt::database_refuses_writes(e)) throw DatabaseDown(e.what());
    // Contention (pg::Error::contention): a lock or statement timeout, a cancel, a deadlock or
    // serialization failure past with_retry's tries. Not the event's fault: retried on the
    // longest delay without spending an attempt, however long it lasts, since a compensation
    // parked in the dead letters would hold stock or money until an operator requeued it.
    // An event whose own statements are too slow every time is retried so until mended,
    // holding the consumer up to DB_STATEMENT_TIMEOUT_MS a try: counted apart in
    // sales_events_contention_retries_total (operations.md says what to look at).
    if (e.contention()) {
      metrics_->contention.inc();
      retry_later(d, env.failed_attempts, opts_.retry_delay_max, e.what());
      return;
    }
    retry_or_dead_letter(d, e.what());
    return;
  } catch (const std::exception& e) {
    retry_or_dead_letter(d, e.what());
    return;
  }
}

void Consumer::retry_or_dead_letter(const amqp::Delivery& d, const std::string& why) {
  const std::int64_t failures = d.header_int(std::string(kAttemptsHeader)).value_or(0) + 1;
  if (failures >= opts_.max_attempts) {
    log::error("consumer {}: message {} ({}) failed {} times, sent to the DLQ: {}", opts_.queue, d.message_id, d.type,
               failures, why);
    dead_letter(d, why, failures);
    metrics_->exhausted.inc();
    return;
  }
  auto delay = opts_.retry_delay * (std::int64_t{1} << std::min<std::int64_t>(failures - 1, 20));
  retry_later(d, failures, std::min(delay, opts_.retry_delay_max), why);
}

// Through <queue>.retry, back on the queue after `delay`, with `failures` as its attempts.
void Consumer::retry_later(const amqp::Delivery& d, std::int64_t failures, std::chrono::milliseconds delay,
                           const std::string& why) {
  amqp::OutgoingMessage copy = copy_for_queue(d, amqp::retry_queue(opts_.queue), failures);
  copy.expiration = delay;
  move_delivery(amqp_, d, copy, opts_.confirm_timeout);
  metrics_->retried.inc();
  log::warn("consumer {}: message {} ({}) failed ({} of {} attempts spent), retrying in {} ms: {}", opts_.queue,
            d.message_id, d.type, failures, opts_.max_attempts, delay.count(), why);
}

void Consumer::dead_letter(const amqp::Delivery& d, const std::string& why, std::optional<std::int64_t> failures) {
  // Poison fails once and for all: that failure counts too.
  amqp::OutgoingMessage copy =
      copy_for_queue(d, amqp::dead_letter_queue(opts_.queue),
                     failures.value_or(d.header_int(std::string(kAttemptsHeader)).value_or(0) + 1));
  // Why it rests there, for whoever reads the DLQ; bounded, the error may quote the event,
  // and cut where a UTF-8 character starts (the header is a UTF-8 string).
  constexpr std::size_t kMaxReasonBytes = 1024;
  copy.headers[std::string(kDeadLetterReasonHeader)] = std::string(text::utf8_prefix_bytes(why, kMaxReasonBytes));
  copy.headers[std::string(kDeadLetterQueueHeader)] = opts_.queue;
  move_delivery(amqp_, d, copy, opts_.confirm_timeout);
}

}  // namespace sales::events

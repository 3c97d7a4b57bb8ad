#pragma once
// An idempotent queue consumer (DESIGN §4): a background thread with its own AMQP
// connection that, for each delivery,
//   parses the envelope (invalid → to <queue>.dlq at once),
//   BEGIN; INSERT INTO inbox (queue, id); handler(tx, envelope) applies the effect (and
//   may enqueue() further events); COMMIT; then acks.
// The inbox INSERT travels with the handler's first statement (no round trip of its own).
// A repeat fails it on the inbox's key (or a connection is lost, maybe after the COMMIT):
// then the careful path runs, BEGIN; INSERT … ON CONFLICT DO NOTHING; if new: handler;
// COMMIT; and a duplicate is acked without effect. Handlers let pg::Error through, so the
// inbox's key violation reaches the consumer. A failing handler is rolled back and the message
// retried later through <queue>.retry (x-attempts + 1, growing delay), then after
// max_attempts moved into <queue>.dlq: it never blocks the queue. Both moves are a publish
// the broker confirms before the delivery is acked, never the broker's dead-lettering on a
// reject, which is at most once; the DLQ copy says why (x-dead-letter-reason). Serialization
// failures and deadlocks are first retried in-process; past that, and on a statement or lock
// timeout or a cancel, the message is retried later through <queue>.retry without spending
// an attempt (contention is not the event's fault; sales_events_contention_retries_total).
// When PostgreSQL or RabbitMQ is
// unreachable the consumer disconnects, backs off and reconnects; unacked messages come
// back from the broker and the inbox dedupes them.
//
// Under load the deliveries that have already arrived (up to batch_max; under steady traffic
// also those arriving within gather_window, see gather_window.hpp) are applied in one
// transaction — one inbox INSERT for all, each handler in delivery order, one COMMIT — and
// acknowledged by one multiple-ack after that commit. A handler that throws rolls the batch
// back: the events before it are applied again as a batch, the failing one is settled as
// above (its handler is not called twice for one delivery), the rest form the next batch.
// What is not the event's fault — the session lost, no connection, a serialization failure
// past with_retry's attempts, a statement queued earlier (maybe by another event) failing —
// settles the batch one by one instead, where those handlers run again in a new transaction
// (the failed one rolled back) and no attempt is spent on it.
//
// Metrics, labelled {queue}: sales_events_consumed_total, sales_events_duplicates_total,
// sales_events_retried_total (sales_events_contention_retries_total of them spent no
// attempt), sales_events_dead_lettered_total{reason=poison|exhausted},
// sales_events_unhandled_total (no handler for the type: retried like a failure, so that
// during a rolling update a newer replica may take it), sales_events_handle_seconds,
// sales_events_consumer_lag (ready messages), sales_events_consumer_connected.
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sales/amqp/connection.hpp"
#include "sales/amqp/topology.hpp"
#include "sales/events/envelope.hpp"
#include "sales/events/gather_window.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"

namespace sales::events {

using Handler = std::function<void(pg::Transaction&, const Envelope&)>;

// Thrown by a handler for an event it can never apply (e.g. required data missing):
// the message goes to the DLQ without further attempts.
class PoisonEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Handlers by event type: `Dispatcher{}.on("order.created", f).on("order.cancelled", g)`.
class Dispatcher {
 public:
  Dispatcher& on(std::string type, Handler handler);
  [[nodiscard]] bool handles(const std::string& type) const { return handlers_.contains(type); }
  [[nodiscard]] std::vector<std::string> types() const;
  void operator()(pg::Transaction& tx, const Envelope& e) const;  // std::out_of_range if unhandled

 private:
  std::map<std::string, Handler> handlers_;
};

struct ConsumerOptions {
  std::string queue;  // e.g. events::kInventoryQueue; also the inbox's consumer name
  amqp::Topology topology;
  // Bound in addition to the dispatcher's types and the queue's row in the system table.
  std::vector<std::string> extra_routing_keys;
  std::uint16_t prefetch = 32;
  // Events applied in one transaction at most (bounded by the prefetch too); 1 = one by one.
  std::size_t batch_max = 16;
  // Under steady traffic a batch waits this long for more deliveries (GatherWindow); 0 = never.
  std::chrono::microseconds gather_window{0};
  int max_attempts = 5;                        // handler failures before the DLQ
  std::chrono::milliseconds retry_delay{200};  // doubles per attempt, up to retry_delay_max
  std::chrono::milliseconds retry_delay_max{5000};
  pg::Isolation isolation = pg::Isolation::ReadCommitted;
  std::chrono::milliseconds poll_interval{250};  // how often the loop sees stop()
  std::chrono::milliseconds confirm_timeout{5000};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{10000};
  std::chrono::milliseconds lag_refresh{5000};  // how often the lag and dead-letter gauges are read from the broker
  std::chrono::hours inbox_retention{24 * 7};
  std::chrono::minutes prune_interval{60};
};

class Consumer {
 public:
  Consumer(pg::Pool& pool, amqp::ConnectionParams broker, ConsumerOptions opts, Dispatcher dispatcher,
           metrics::Registry& registry = metrics::global());
  ~Consumer();  // stops
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void start();
  void stop();  // finishes the message in hand, closes the connection, joins
  // Subscribed and consuming: part of the service's /health/ready.
  [[nodiscard]] bool connected() const { return connected_.load(); }
  // Deliveries dealt with so far (applied, duplicates, retried): a measure of work done.
  [[nodiscard]] std::uint64_t deliveries_handled() const;
  [[nodiscard]] const std::string& queue() const { return opts_.queue; }

 private:
  struct Counters;
  void run(std::stop_token st);
  void connect();
  void housekeeping();
  void handle(const amqp::Delivery& d);
  // The delivery's envelope with the trace its headers carry; InvalidEnvelope as parse().
  static Envelope envelope_of(const amqp::Delivery& d);
  void handle_batch(const std::vector<amqp::Delivery>& batch);
  // fast: the inbox rows travel with the first handler's statement, and a failure no event
  // can be blamed for (a repeat among them, a lost COMMIT answer) runs the batch again with
  // the careful inbox insert, which filters out repeats before any handler runs.
  void apply_batch(const std::vector<amqp::Delivery>& batch, const std::vector<Envelope>& events, std::size_t first,
                   std::size_t last, bool fast);
  // A handler's (or its transaction's) failure: DLQ, retry copy or reconnect, as DESIGN §4 says.
  void settle_failure(const amqp::Delivery& d, const Envelope& env, std::exception_ptr error);
  void retry_or_dead_letter(const amqp::Delivery& d, const std::string& why);
  void retry_later(const amqp::Delivery& d, std::int64_t failures, std::chrono::milliseconds delay,
                   const std::string& why);
  // Into <queue>.dlq with the reason; `failures` defaults to the attempts the message
  // carries plus this one.
  void dead_letter(const amqp::Delivery& d, const std::string& why, std::optional<std::int64_t> failures = {});
  void set_connected(bool up);

  pg::Pool& pool_;
  ConsumerOptions opts_;
  Dispatcher dispatcher_;
  amqp::Connection amqp_;  // used by the consumer thread only
  std::unique_ptr<Counters> metrics_;
  GatherWindow gather_;  // consumer thread only
  std::shared_ptr<std::atomic<double>> lag_;     // shared with the scrape callback
  std::shared_ptr<std::atomic<double>> parked_;  // messages in <queue>.dlq; shared likewise
  std::chrono::steady_clock::time_point next_lag_refresh_{};
  std::chrono::steady_clock::time_point next_prune_{};
  std::int64_t pruned_ = 0;  // rows removed by the prune in progress, for its log line
  std::atomic<bool> connected_{false};
  std::jthread thread_;
};

}  // namespace sales::events

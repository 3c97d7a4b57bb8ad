#pragma once
// The outbox relay: a background thread that moves committed outbox rows to RabbitMQ.
//   loop { BEGIN; SELECT … FROM outbox ORDER BY seq LIMIT n FOR UPDATE SKIP LOCKED;
//          publish all; wait for the broker's confirms; DELETE them; COMMIT }
// It has its own PostgreSQL connection and its own AMQP connection. A commit that enqueued
// wakes the relays of its process (no NOTIFY: see src/events/wakeup.hpp); a poll finds
// rows of other processes, and a NOTIFY on channel "outbox" still wakes it. Any failure rolls back (the rows
// stay), backs off and reconnects: nothing is lost; a crash after publishing but before
// COMMIT republishes, which consumers dedupe. Several replicas are safe (SKIP LOCKED).
// Under steady traffic a woken relay first waits gather_window for more commits to join the
// round (gather_window.hpp); after a quiet spell it publishes at once.
//
// Metrics: sales_outbox_published_total, sales_outbox_publish_failures_total,
//          sales_outbox_backlog (rows waiting), sales_outbox_relay_connected (0/1).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sales/amqp/connection.hpp"
#include "sales/amqp/topology.hpp"
#include "sales/events/gather_window.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/metrics/metrics.hpp"

namespace sales::pg {
class Connection;
}

namespace sales::events {
namespace detail {
class RelayWakeup;
}

struct RelayOptions {
  amqp::Topology topology;
  // Queues declared (with their DLQs and bindings) before publishing, so no event finds
  // its consumer's queue missing. Tests pass their own; services keep the system table.
  // An event whose type one of them names exactly is published mandatory: should no queue
  // take it (a queue or binding removed while the relay was connected), the broker returns
  // it, the batch stays in the outbox, and the relay reconnects, declaring all of them again.
  std::vector<Subscription> declare = system_subscriptions();
  int batch_size = 200;
  std::chrono::milliseconds poll_interval{200};  // fallback for rows no wake-up announced
  // Under steady traffic a woken relay waits this long for more commits (GatherWindow); 0 = never.
  std::chrono::microseconds gather_window{0};
  std::chrono::milliseconds confirm_timeout{5000};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{10000};
  std::chrono::milliseconds backlog_refresh{2000};
  std::chrono::milliseconds statement_timeout{5000};
};

class OutboxRelay {
 public:
  // `pg_conninfo`: the service's database (e.g. pool.options().conninfo).
  OutboxRelay(std::string pg_conninfo, amqp::ConnectionParams broker, RelayOptions opts = {},
              metrics::Registry& registry = metrics::global());
  ~OutboxRelay();  // stops
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  void start();
  // Asks the thread to finish its current round and joins it (bounded by confirm_timeout).
  void stop();
  // Both connections up: the readiness of a service that publishes.
  [[nodiscard]] bool connected() const { return connected_.load(); }
  [[nodiscard]] std::uint64_t published() const { return published_.value(); }  // events confirmed so far

 private:
  void run(std::stop_token st);
  void ensure_connected();
  std::size_t publish_batch();
  // True when woken (a commit, a NOTIFY), false when the poll interval passed.
  bool wait_for_work(std::stop_token st);
  void gather(std::stop_token st);
  void refresh_backlog();
  void refresh_backlog_while_failing() noexcept;
  void set_connected(bool up);

  std::string conninfo_;
  RelayOptions opts_;
  // The event types opts_.declare names exactly, sorted once: published mandatory.
  std::vector<std::string> mandatory_types_;
  amqp::Connection amqp_;  // used by the relay thread only
  std::unique_ptr<pg::Connection> pg_;
  std::unique_ptr<detail::RelayWakeup> wakeup_;
  std::chrono::steady_clock::time_point next_backlog_refresh_{};
  std::atomic<bool> connected_{false};
  metrics::Counter& published_;
  metrics::Counter& failures_;
  metrics::Gauge& backlog_;
  metrics::Gauge& connected_gauge_;
  GatherWindow gather_;  // relay thread only
  std::jthread thread_;
};

}  // namespace sales::events

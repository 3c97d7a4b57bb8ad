// Many deliveries, one transaction: what makes a busy consumer cheap. Each event still
// runs its own handler in delivery order, exactly as one by one, but the inbox rows go in
// with one statement, the COMMIT (a WAL flush) is paid once, and one multiple-ack settles
// the batch — only after that COMMIT, so a crash in between redelivers and the inbox
// dedupes.
#include <optional>
#include <set>

#include "consumer_counters.hpp"
#include "sales/events/consumer.hpp"
#include "sales/json/writer.hpp"
#include "sales/log/log.hpp"
#include "statements.hpp"

namespace sales::events {
namespace {
bool is_repeat(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const pg::Error& e) {
    return stmt::is_inbox_repeat(e);
  } catch (...) {
    return false;
  }
}

// Whether what a handler threw is its event's fault, to be settled on that event: not when
// the session went away (or the outcome of a statement is unknown), no connection could be
// had, the database refuses writes for now, or a serialization failure or deadlock that
// with_retry runs the batch again for.
bool handler_to_blame(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const pg::Error& e) {
    return !stmt::database_failure(e) && !stmt::database_refuses_writes(e) && !stmt::is_inbox_repeat(e) &&
           !e.serialization_failure();
  } catch (...) {
    return true;
  }
}
}  // namespace

void Consumer::handle_batch(const std::vector<amqp::Delivery>& batch) {
  auto one_by_one = [&] {
    for (const auto& d : batch) handle(d);
  };
  if (batch.size() == 1) return one_by_one();

  std::vector<Envelope> events;
  events.reserve(batch.size());
  for (const auto& d : batch) {
    Envelope env;
    try {
      env = envelope_of(d);
    } catch (const InvalidEnvelope&) {
      return one_by_one();  // rare: the one-by-one path owns the rules for poison
    }
    if (!dispatcher_.handles(env.type)) return one_by_one();
    events.push_back(std::move(env));
  }
  apply_batch(batch, events, 0, events.size(), true);
}

// Applies events [first, last) in one transaction and acknowledges them with one frame.
// Every delivery before `first` is already settled, so the multiple-ack covers only these.
void Consumer::apply_batch(const std::vector<amqp::Delivery>& batch, const std::vector<Envelope>& events,
                           std::size_t first, std::size_t last, bool fast) {
  if (first >= last) return;
  if (last - first == 1) return handle(batch[first]);
  const auto started = std::chrono::steady_clock::now();
  json::Writer ids;
  ids.begin_array();
  for (std::size_t i = first; i < last; ++i) ids.value(events[i].id);
  const std::string ids_json = ids.end_array().take();

  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t failed = kNone;  // the event whose handler threw
  std::size_t applied = 0;
  try {
    pg::with_retry(pool_, opts_.isolation, [&](pg::Transaction& tx) {
      failed = kNone;
      applied = 0;
      // The ids the careful inbox insert found new; the fast path handles every event.
      std::optional<std::set<std::string, std::less<>>> todo;
      if (fast) {
        tx.exec_later(stmt::kInsertInboxBatchNew, {pg::param(opts_.queue), pg::param(ids_json)});
      } else {
        auto fresh = tx.exec(stmt::kInsertInboxBatch, {pg::param(opts_.queue), pg::param(ids_json)});
        todo.emplace();
        for (int r = 0; r < fresh.rows(); ++r) todo->insert(fresh.str(r, 0));
      }
      for (std::size_t i = first; i < last; ++i) {
        if (todo) {
          auto it = todo->find(events[i].id);
          if (it == todo->end()) continue;  // handled before, or earlier in this batch
          todo->erase(it);
        }
        amqp_.keep_alive();  // sixteen handlers (and tries of them) may wait long on locks
        log::RequestScope request_scope(events[i].trace.request_id);
        TraceScope trace_scope(events[i].trace);
        failed = i;
        try {
          dispatcher_(tx, events[i]);
        } catch (...) {
          // Not this event's to answer for: what failed was queued (exec_later) before this
          // handler's statement, maybe by an earlier event; or the session went away, no
          // connection came, or a serialization failure that with_retry runs again. One by
          // one (after with_retry, if it gives up) decides, without spending an attempt.
          if (tx.earlier_statement_failed() || !handler_to_blame(std::current_exception())) failed = kNone;
          throw;
        }
        failed = kNone;
        ++applied;
      }
      tx.commit();
    });
  } catch (...) {
    if (failed == kNone) {
      // The inbox insert, the COMMIT or a statement that travels with it failed, no known
      // single event. A repeat among them: the careful inbox insert filters it out.
      // Otherwise one by one decides (a COMMIT that did land makes them duplicates there).
      if (fast && is_repeat(std::current_exception())) return apply_batch(batch, events, first, last, false);
      for (std::size_t i = first; i < last; ++i) handle(batch[i]);
      return;
    }
    auto error = std::current_exception();
    log::debug("consumer {}: event {} failed inside a batch; settling it alone", opts_.queue, events[failed].id);
    apply_batch(batch, events, first, failed, fast);
    {
      log::RequestScope request_scope(events[failed].trace.request_id);
      TraceScope trace_scope(events[failed].trace);
      settle_failure(batch[failed], events[failed], error);
    }
    apply_batch(batch, events, failed + 1, last, fast);
    return;
  }
  amqp_.ack(batch[last - 1].delivery_tag, true);
  metrics_->consumed.inc(applied);
  metrics_->duplicates.inc(last - first - applied);
  // Time to apply one event: each gets its share of the batch's transaction.
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
                         static_cast<double>(last - first);
  for (std::size_t i = first; i < last; ++i) metrics_->handle_seconds.observe(seconds);
}

}  // namespace sales::events

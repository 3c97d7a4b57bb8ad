#include "events/unpaid_expiry.hpp"

#include <algorithm>
#include <optional>

#include "events/transitions.hpp"
#include "sales/events/envelope.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace {
constexpr int kBatch = 100;  // orders read at a time
}  // namespace

UnpaidExpiry::UnpaidExpiry(sales::pg::Pool& pool, OrderStore& store, Directory& payments,
                           sales::metrics::Registry& registry, std::chrono::milliseconds timeout,
                           std::chrono::milliseconds every)
    : pool_(pool),
      store_(store),
      payments_(payments),
      timeout_(timeout),
      every_(every),
      cancelled_(registry.counter("sales_order_unpaid_cancelled_total",
                                  "CONFIRMED orders cancelled because no payment came within ORDER_PAYMENT_TIMEOUT_MS")),
      recovered_(registry.counter("sales_order_payments_recovered_total",
                                  "CONFIRMED orders made PAID by the unpaid-order check: the payment service had "
                                  "confirmed their payment, whose payment.confirmed never came")),
      rounds_ran_(registry.counter("sales_order_unpaid_rounds_total",
                                   "Scheduled unpaid-order rounds: ran here, failed here (handed to the next replica), "
                                   "or skipped because a round was taken within the last three quarters of the interval",
                                   {{"outcome", "ran"}})),
      rounds_failed_(registry.counter("sales_order_unpaid_rounds_total", "", {{"outcome", "failed"}})),
      rounds_skipped_(registry.counter("sales_order_unpaid_rounds_total", "", {{"outcome", "skipped"}})),
      sweeper_(every, sales::service::warning_on_failure("unpaid-order sweep", [this] { round_if_due(); }),
               sales::service::Periodic::First::AfterInterval) {}

UnpaidExpiry::~UnpaidExpiry() = default;

void UnpaidExpiry::start() {
  if (timeout_.count() > 0) sweeper_.start();
}

std::int64_t UnpaidExpiry::scan_bound() {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::steady_clock::duration gap = std::max<std::chrono::milliseconds>(timeout_ / 100, std::chrono::seconds(1));
  // One taken before the cutoff bounds nothing: an order placed after it may qualify. (An
  // order placed within the milliseconds between a sample and the query's now() may wait a
  // round: the next one's bound is a later sample.)
  while (!samples_.empty() && samples_.front().at < now - timeout_) samples_.pop_front();
  if (samples_.empty() || now - samples_.back().at >= gap) samples_.push_back({now, store_.newest_id()});
  return samples_.front().newest_id;
}

std::optional<int> UnpaidExpiry::round_if_due() {
  // Three quarters: the replica that took the last round finds the next one due (its timer
  // counts the interval from the end of its round), and rounds start at least that far
  // apart. A round that outlasts it (a payment service answering at its deadline) may
  // overlap the next one, which then asks about some orders again; the row lock keeps each
  // outcome single.
  const auto lease = store_.take_unpaid_round(every_ * 3 / 4);
  if (!lease) {
    scan_bound();  // sampled on the ticks it skips too (sweep() samples on the others), so a
                   // replica that seldom takes a round keeps its bound
    rounds_skipped_.inc();
    return std::nullopt;
  }
  try {
    const int cancelled = sweep();
    rounds_ran_.inc();
    return cancelled;
  } catch (...) {
    rounds_failed_.inc();
    // Due again at once, for another replica: one that cannot reach the payment service
    // must not hold every round while the others only count theirs skipped.
    try {
      store_.hand_back_unpaid_round(*lease);
    } catch (const std::exception&) {  // the round's own failure is the one to report
    }
    throw;
  }
}

int UnpaidExpiry::sweep(std::chrono::milliseconds work) {
  const auto until = std::chrono::steady_clock::now() + work;
  const auto ms = timeout_.count();
  const std::string reason = "no payment within " + (ms % 60000 == 0 ? std::to_string(ms / 60000) + " min"
                                                                      : std::to_string(ms) + " ms");
  // A payment started after this is a client paying now, and one confirmed after it may
  // have its payment.confirmed on the way (RFC 3339 strings of one width compare as their
  // times do).
  const std::string a_timeout_ago = sales::events::rfc3339(std::chrono::system_clock::now() - timeout_);
  int cancelled = 0, recovered = 0;
  // Throws DirectoryUnavailable: the round ends there (the next one asks again), and
  // nothing is changed unasked.
  auto settle = [&](std::int64_t id) {
    auto payments = payments_.payments_of(id, CallContext{});
    // Kept until its payment is as old.
    if ((payments.confirmed ? payments.confirmed_at : payments.pending_since) > a_timeout_ago) return;
    sales::pg::Transaction tx(pool_);  // one order at a time: no lock waits on the next one's
    auto o = store_.lock(tx, id);
    if (!o || o->status != Status::Confirmed) return;  // paid or cancelled meanwhile
    // A confirmed payment whose payment.confirmed has not come within the timeout of the
    // confirmation was lost (a dead letter, a purged queue), not late: applied as that event
    // would have been; should it come after all, it fits PAID no more and is ignored.
    const bool paid = payments.confirmed.has_value();
    transition(store_, tx, *o, paid ? Status::Paid : Status::Cancelled,
               paid ? "payment " + std::to_string(*payments.confirmed) + " confirmed (the payment service's word)" : reason,
               payments.confirmed);
    tx.commit();
    ++(paid ? recovered : cancelled);
    (paid ? recovered_ : cancelled_).inc();
  };
  const std::int64_t bound = scan_bound();
  std::int64_t after = store_.unpaid_round_cursor();  // where the last round, on any replica, stopped
  try {
    for (bool more = true; more;) {
      auto ids = store_.unpaid(timeout_, after, bound, kBatch);
      for (auto id : ids) {
        if (std::chrono::steady_clock::now() >= until) break;
        settle(id);
        after = id;
      }
      const bool all_seen = ids.empty() || after == ids.back();
      if (all_seen && static_cast<int>(ids.size()) < kBatch) after = 0;  // the end: next time from the oldest
      more = all_seen && static_cast<int>(ids.size()) == kBatch;
    }
  } catch (...) {
    // A round that ends early goes on from here next time. Should the database be what
    // ended it, the round's own failure is the one to report.
    try {
      store_.set_unpaid_round_cursor(after);
    } catch (const std::exception&) {
    }
    throw;
  }
  store_.set_unpaid_round_cursor(after);
  if (cancelled > 0) sales::log::info("{} orders unpaid for {} ms cancelled; their stock is released", cancelled, ms);
  if (recovered > 0) {
    sales::log::warn("{} CONFIRMED orders made PAID: the payment service confirmed their payments, whose "
                     "payment.confirmed did not reach this service within {} ms (the DLQ: ./sales dlq)", recovered, ms);
  }
  return cancelled;
}

}  // namespace order

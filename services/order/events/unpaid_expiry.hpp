#pragma once
// A CONFIRMED order holds its stock until it is paid. Without an end to that, every
// abandoned checkout (or a client placing large orders it never pays) took stock off sale
// for good. An order left unpaid for ORDER_PAYMENT_TIMEOUT_MS (60 min, as WooCommerce's
// "hold stock"; 0: never) is cancelled like a client's cancel: order.cancelled releases its
// stock and cancels its pending payment. "Unpaid" is the payment service's word, asked
// first: a payment confirmed there at least the timeout ago whose event has not reached us (a
// dead letter, a purged queue) makes its order PAID here, as that payment.confirmed would
// have (the customer paid; left CONFIRMED it could never ship), and one confirmed since keeps
// its order (its event may be on the way); a PENDING payment started within the timeout keeps
// its order (a client paying at the 59th minute is not cancelled at the 60th; the order goes
// when its payment is as old); with the payment service unreachable nothing changes. A
// payment confirmed between that question and the cancel is refunded (the saga's rule for
// payment.confirmed on a CANCELLED order). The replicas share the rounds and their place (a
// lease row, migration 0008: rounds start at least ¾ of the interval apart, on whichever
// replica takes the lease; a failed round hands it back), so an order is asked about once
// per round, not once per replica.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "domain/placement.hpp"
#include "sales/service/periodic.hpp"
#include "store/order_store.hpp"

namespace order {

class UnpaidExpiry {
 public:
  UnpaidExpiry(sales::pg::Pool& pool, OrderStore& store, Directory& payments, sales::metrics::Registry& registry,
               std::chrono::milliseconds timeout, std::chrono::milliseconds every = std::chrono::seconds(15));
  ~UnpaidExpiry();
  UnpaidExpiry(const UnpaidExpiry&) = delete;
  UnpaidExpiry& operator=(const UnpaidExpiry&) = delete;

  void start();  // once the schema exists; nothing when the timeout is 0
  // What the sweeper runs each interval: a round if none was taken, on any replica, within
  // the last three quarters of the interval (how many orders it cancelled), else nullopt.
  // Throws what the round threw, and makes the next round due at once.
  std::optional<int> round_if_due();
  // One round now, of at most `work` (a stop waits for a round to end): how many orders
  // were cancelled. A round goes on from where the last one, on any replica, stopped, so
  // orders kept (paid at the payment service) cannot hold newer ones back; past the last it
  // starts again.
  int sweep(std::chrono::milliseconds work = std::chrono::seconds(3));

 private:
  sales::pg::Pool& pool_;
  OrderStore& store_;
  Directory& payments_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds every_;
  // The newest order id no qualifying order is beyond: ids are taken in time order, and an
  // order placed after a sample of the newest id cannot have been unchanged since before it.
  // So the newest id sampled no earlier than `timeout` ago bounds the scan to the orders
  // placed before then, instead of every CONFIRMED one (after a start, the newest id now).
  std::int64_t scan_bound();

  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::int64_t newest_id;
  };
  std::deque<Sample> samples_;  // oldest first, at least timeout/100 apart (the sweeper's thread)
  sales::metrics::Counter& cancelled_;
  sales::metrics::Counter& recovered_;  // made PAID from the payment service's word
  sales::metrics::Counter& rounds_ran_;      // scheduled rounds this replica ran to their end
  sales::metrics::Counter& rounds_failed_;   // that threw (the lease handed back)
  sales::metrics::Counter& rounds_skipped_;  // and ticks that found a round taken within ¾ interval
  sales::service::Periodic sweeper_;  // last: stops before the rest goes
};

}  // namespace order

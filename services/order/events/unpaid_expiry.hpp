#pragma once
// A CONFIRMED order holds its stock until it is paid. Without an end to that, every
// abandoned checkout (or a client placing large orders it never pays) took stock off sale
// for good. An order left unpaid for ORDER_PAYMENT_TIMEOUT_MS (60 min, as WooCommerce's
// "hold stock"; 0: never) is cancelled like a client's cancel: order.cancelled releases its
// stock and cancels its pending payment. "Unpaid" is the payment service's word, asked
// first: a payment confirmed there whose event has not reached us (the broker down, a
// consumer behind, a dead letter) keeps its order; with the payment service unreachable
// nothing is cancelled. A payment confirmed between that question and the cancel is
// refunded (the saga's rule for payment.confirmed on a CANCELLED order).
#include <chrono>

#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "domain/placement.hpp"
#include "sales/service/periodic.hpp"
#include "store/order_store.hpp"

namespace order {

class UnpaidExpiry {
 public:
  UnpaidExpiry(sales::pg::Pool& pool, OrderStore& store, Directory& payments, sales::metrics::Registry& registry,
               std::chrono::milliseconds timeout, std::chrono::milliseconds every = std::chrono::seconds(60));
  ~UnpaidExpiry();
  UnpaidExpiry(const UnpaidExpiry&) = delete;
  UnpaidExpiry& operator=(const UnpaidExpiry&) = delete;

  void start();  // once the schema exists; nothing when the timeout is 0
  int sweep();   // one round now: how many orders were cancelled

 private:
  sales::pg::Pool& pool_;
  OrderStore& store_;
  Directory& payments_;
  std::chrono::milliseconds timeout_;
  sales::metrics::Counter& cancelled_;
  sales::service::Periodic sweeper_;  // last: stops before the rest goes
};

}  // namespace order

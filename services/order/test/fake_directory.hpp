#pragma once
// A Directory in memory: customers, products and payments by id, or down altogether.
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "domain/placement.hpp"

namespace order {

class FakeDirectory : public Directory {
 public:
  std::map<std::int64_t, CustomerSnapshot> customers;
  std::map<std::int64_t, ProductSnapshot> products;
  std::map<std::int64_t, std::optional<std::string>> payments;  // nullopt: no such payment
  bool down = false;
  std::vector<std::string> seen_request_ids;
  std::mutex mu;  // handlers may call from several threads

  std::optional<CustomerSnapshot> customer(std::int64_t id, const CallContext& c) override {
    return lookup(customers, id, c);
  }
  std::optional<ProductSnapshot> product(std::int64_t id, const CallContext& c) override {
    return lookup(products, id, c);
  }
  // Payments by id and their status; one not listed is CONFIRMED (the payment service's
  // word on an order that is PAID).
  std::optional<std::string> payment_status(std::int64_t id, const CallContext& c) override {
    return lookup(payments, id, c).value_or(std::string("CONFIRMED"));
  }
  struct ConfirmedPayment {
    std::int64_t id = 0;
    std::string at = "2000-01-01T00:00:00.000000Z";  // when it was confirmed: long ago unless said
  };
  std::map<std::int64_t, ConfirmedPayment> paid_orders;  // order: its CONFIRMED payment at the payment service
  std::set<std::int64_t> refunded_orders;                 // with a REFUNDED payment there
  std::map<std::int64_t, std::string> pending_payments;  // order: its PENDING payment's created_at
  int payment_answers_left = -1;                         // >= 0: the payment service goes down after that many
  PaymentsOfOrder payments_of(std::int64_t order_id, const CallContext& c) override {
    auto lock = answer(c, &payment_answers_left);
    auto pending = pending_payments.find(order_id);
    auto paid = paid_orders.find(order_id);
    PaymentsOfOrder out;
    if (paid != paid_orders.end()) {
      out.confirmed = paid->second.id;
      out.confirmed_at = paid->second.at;
    }
    out.refunded = refunded_orders.contains(order_id);
    if (pending != pending_payments.end()) out.pending_since = pending->second;
    return out;
  }

 private:
  // Every call is recorded and refused while down (`answers_left`, when given, counts down
  // to going down); the caller keeps the lock for its own reads.
  std::unique_lock<std::mutex> answer(const CallContext& c, int* answers_left = nullptr) {
    std::unique_lock lock(mu);
    seen_request_ids.push_back(c.request_id);
    if (answers_left && *answers_left == 0) down = true;
    if (answers_left && *answers_left > 0) --*answers_left;
    if (down) throw DirectoryUnavailable("product", "down (a fake directory)");
    return lock;
  }

  template <class T>
  std::optional<T> lookup(const std::map<std::int64_t, T>& m, std::int64_t id, const CallContext& c) {
    auto lock = answer(c);
    auto it = m.find(id);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace order

#pragma once
// Reservations of orders (docs/saga.md, inventory rules), applied inside the consumer's
// transaction: the handler never commits, the consumer does after recording the inbox row.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/reservation.hpp"
#include "sales/pg/pool.hpp"

namespace inventory {

struct OrderLines {
  std::int64_t order_id = 0;
  std::vector<Line> lines;
  int failed_attempts = 0;  // inventory's earlier tries of this order.created (on_unknown_product)
};

// Thrown while an unknown product may still arrive: the consumer retries the event later.
class ProductNotYetKnown : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ReserveOutcome { Reserved, Rejected, AlreadyHandled };
// order.created: all lines or none. Throws ProductNotYetKnown (see on_unknown_product).
ReserveOutcome reserve(sales::pg::Transaction& tx, const OrderLines& order);

// order.cancelled: what on_order_cancelled says, done.
CancelAction cancel(sales::pg::Transaction& tx, std::int64_t order_id);

struct Reservation {
  std::int64_t order_id = 0;
  ReservationStatus status = ReservationStatus::Rejected;
  std::optional<std::string> reason;
  std::vector<Line> items;  // what it holds (RESERVED) or held (RELEASED)
  std::string created_at;
  std::string updated_at;
};

class ReservationStore {
 public:
  explicit ReservationStore(sales::pg::Pool& pool) : pool_(pool) {}
  std::optional<Reservation> find(std::int64_t order_id);

 private:
  sales::pg::Pool& pool_;
};

}  // namespace inventory

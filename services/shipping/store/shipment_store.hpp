#pragma once
#include <functional>
// Shipments in PostgreSQL. Every change of status writes a history row in the same
// statement, and a client transition its event in the same transaction (the outbox).
#include <optional>
#include <vector>

#include "domain/shipment.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "sales/pg/total_cache.hpp"

namespace shipping {

struct ShipmentFilter {
  std::optional<std::int64_t> order_id;
  std::optional<ShipmentStatus> status;
};

struct ShipmentPage {
  std::vector<Shipment> items;
  std::int64_t total = 0;
};

// The order's one shipment, and whether this call made it.
struct OrderShipment {
  Shipment shipment;
  bool created = false;
};

struct UpdateResult {
  UpdateVerdict verdict = UpdateVerdict::NotAllowed;
  ShipmentStatus from = ShipmentStatus::Pending;
  Shipment shipment;  // after the change when applied, as found otherwise
};

// What an order.rejected / order.cancelled did.
enum class CancelEffect { Tombstone, Cancelled, AlreadyCancelled, TooLate };
struct CancelResult {
  CancelEffect effect = CancelEffect::AlreadyCancelled;
  std::int64_t shipment_id = 0;
  ShipmentStatus status = ShipmentStatus::Cancelled;  // the shipment's status afterwards
};

class ShipmentStore {
 public:
  explicit ShipmentStore(sales::pg::Pool& pool, sales::pg::TotalCacheConfig totals = {}) : pool_(pool), totals_(totals) {}

  std::optional<Shipment> find(std::int64_t id);
  std::optional<Shipment> find_by_order(std::int64_t order_id);
  std::vector<HistoryEntry> history(std::int64_t shipment_id);
  ShipmentPage list(const ShipmentFilter& filter, const sales::http::Page& page);
  // Inserts `s` unless its order has a shipment already; concurrent calls make one.
  OrderShipment create_for_order(const NewShipment& s);
  // PUT {status}: decides under the row lock; nullopt when the id is unknown. Only an
  // Apply verdict writes (status, history row, event); any other leaves the shipment as found.
  // `before_apply` runs under the shipment's row lock once the change is allowed, before it
  // is written; it may throw to refuse (the transaction rolls back). For PENDING → SHIPPED it
  // is the order service's ship handshake, which refuses an order that is not PAID: so it
  // also runs when shipping has not heard of the payment (NotPaid; order.paid late, or lost
  // for good), and its return means the order was paid.
  std::optional<UpdateResult> update_status(std::int64_t id, ShipmentStatus to,
                                            const std::function<void(const Shipment&)>& before_apply = {});

 private:
  sales::pg::Pool& pool_;
  sales::pg::TotalCache totals_;  // list totals: a count(*) over shipments matching the filter
};

// The consumer's side, inside the transaction that records the event in the inbox.
// Inserts unless the order has a shipment (or its tombstone). Queued (exec_later): it goes to
// the server with the transaction's next statement or its COMMIT, so a consumer's batch of
// order.created costs no round trip of its own.
void insert_if_absent_later(sales::pg::Transaction& tx, const NewShipment& s);
// Cancels the order's PENDING shipment, or leaves a CANCELLED tombstone when there is none.
CancelResult cancel_for_order(sales::pg::Transaction& tx, std::int64_t order_id, const std::string& reason);
// Records that the order is paid; false when the order has no shipment yet.
bool mark_paid(sales::pg::Transaction& tx, std::int64_t order_id);
// The order is SHIPPED: its PENDING shipment becomes SHIPPED (and announces it); one
// already SHIPPED or further stays as it is. False when the order has no shipment yet.
bool ship_for_order(sales::pg::Transaction& tx, std::int64_t order_id, const std::string& reason);

}  // namespace shipping

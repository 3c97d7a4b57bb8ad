#pragma once
// Placing an order: the customer and every product are checked with their owners, the
// products' current prices and the customer's address are snapshotted. The owners are
// reached through `Directory` (REST in production, a fake in tests), which also asks the
// payment service, before an order ships, whether its payment still holds.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/order.hpp"

namespace order {

struct CustomerSnapshot {
  std::optional<std::string> address;
};

struct ProductSnapshot {
  std::int64_t price_cents = 0;
};

// The owner could not answer (unreachable, timed out, 5xx, a reply we cannot read).
class DirectoryUnavailable : public std::runtime_error {
 public:
  // `service`: the owner that could not answer ("customer", "product", "payment"), named in
  // the 503 so that the gateway does not count it against the order service.
  // what(): "<service> service <why>".
  DirectoryUnavailable(std::string service, std::string_view why)
      : std::runtime_error(service + " service " + std::string(why)), service_(std::move(service)) {}
  [[nodiscard]] const std::string& service() const { return service_; }

 private:
  std::string service_;
};

// What the calls made for one client request carry along, so they share its trace.
struct CallContext {
  std::string request_id;
  std::string traceparent;  // W3C trace context; empty when the request had none
};

// An order's payments at the payment service (an order has at most one that is not
// CANCELLED: POST /payments refuses a second).
struct PaymentsOfOrder {
  std::optional<std::int64_t> confirmed;  // its CONFIRMED payment (whose event may not have reached us)
  std::string confirmed_at;               // that payment's updated_at (RFC 3339 UTC): when it was confirmed
  bool refunded = false;                  // one of them is REFUNDED
  std::string pending_since;              // created_at of a PENDING one (RFC 3339 UTC); empty: none
};

class Directory {
 public:
  virtual ~Directory() = default;
  // nullopt: no such customer/product. Throws DirectoryUnavailable.
  virtual std::optional<CustomerSnapshot> customer(std::int64_t id, const CallContext& context) = 0;
  virtual std::optional<ProductSnapshot> product(std::int64_t id, const CallContext& context) = 0;
  // Those of `ids` (distinct) that exist; an absent one does not. One question for the lot
  // where the owner can take it (RestDirectory); here, one product() each.
  virtual std::map<std::int64_t, ProductSnapshot> find_products(const std::vector<std::int64_t>& ids,
                                                                const CallContext& context);
  // A payment's status at the payment service ("CONFIRMED", "REFUNDED", ...), asked before
  // an order ships; nullopt: no such payment. Throws DirectoryUnavailable.
  virtual std::optional<std::string> payment_status(std::int64_t payment_id, const CallContext& context) = 0;
  // What the payment service holds for the order, asked before an unpaid order expires.
  // Throws DirectoryUnavailable.
  virtual PaymentsOfOrder payments_of(std::int64_t order_id, const CallContext& context) = 0;
};

struct PricedOrder {
  std::int64_t customer_id = 0;
  std::vector<PricedLine> lines;
  std::optional<std::string> shipping_address;
};

// A reference the order cannot be placed with: no such customer or product (422), or a
// customer without an address to ship to (409: the customer's state, which can change).
struct UnknownReference {
  std::string field;  // "customer_id", "items[2].product_id"
  std::string message;
};

struct Pricing {
  std::optional<PricedOrder> order;        // set when everything referred to exists
  std::vector<UnknownReference> unknown;  // otherwise: every reference that does not
  std::vector<UnknownReference> unusable;  // or that exists but cannot take an order
};

// Asks the directory about the customer and each product (all of them, so the client
// learns every bad reference at once). Throws DirectoryUnavailable.
Pricing price_order(const NewOrder& order, Directory& directory, const CallContext& context);

}  // namespace order

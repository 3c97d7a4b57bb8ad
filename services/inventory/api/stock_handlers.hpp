#pragma once
// /inventory/stock and /inventory/reservations: decode → store (under a row lock) → render.
#include <string>
#include <string_view>

#include "api/product_check.hpp"
#include "sales/http/router.hpp"
#include "store/reservation_store.hpp"
#include "store/stock_store.hpp"

namespace inventory {

// The problem type of the 409 for a product created moments ago, whose stock has not reached
// inventory yet (a retry soon succeeds), apart from the 409 of too little stock.
inline constexpr std::string_view kStockNotReady = "urn:sales:problem:stock-not-ready";

// Decoding of untrusted bodies (400 on any invalid field).
struct Take {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
};
Take decode_take(std::string_view body);            // PUT /inventory/stock {product_id, quantity}
std::int64_t decode_adjust(std::string_view body);  // POST /inventory/stock/{id}/adjust {delta}
std::string render(const StockLevel& s);
std::string render(const Reservation& r);

// `pool` runs the changes (with Idempotency-Key, as the payment service); the stores read;
// `products` is asked about a product that has no stock here (product_check.hpp).
void register_routes(sales::http::Router& router, sales::pg::Pool& pool, StockStore& stock,
                     ReservationStore& reservations, ProductCheck& products);

}  // namespace inventory

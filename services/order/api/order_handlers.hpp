#pragma once
#include "domain/placement.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "store/order_store.hpp"

namespace order {

struct OrderRoutes {
  OrderStore& store;
  Directory& directory;  // customers and products, checked when an order is placed; payments, before it ships
  sales::pg::Pool& db;   // for the transactions that span store, outbox and Idempotency-Key
};

// POST /orders, GET /orders, GET /orders/{id}, POST /orders/{id}/cancel.
void register_routes(sales::http::Router& router, OrderRoutes deps);

}  // namespace order

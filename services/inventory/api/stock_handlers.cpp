#include "api/stock_handlers.hpp"

#include "sales/http/render.hpp"
#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"
#include "sales/service/idempotency.hpp"

namespace inventory {

namespace http = sales::http;
namespace pg = sales::pg;
namespace service = sales::service;
using sales::Problem;
using sales::ProblemError;

namespace {
void write(sales::json::Writer& w, const StockLevel& s) {
  w.begin_object().field("product_id", s.product_id).field("stock", s.stock).field("updated_at", s.updated_at);
  w.end_object();
}

// Where the product is named decides the status (DESIGN §2): an unknown id in the path is
// a resource that does not exist (404); one in the body is a well-formed request that
// refers to what does not exist (422), as an unknown order is for payments and shipping.
enum class NamedIn { Path, Body };

// A product the product service has but inventory has no stock for was created moments ago:
// its stock follows by event, so the refusal is a conflict to retry, with Retry-After and a
// type of its own (kStockNotReady), so that a client tells it from the 409 of too little
// stock. Not a 503: nothing is unavailable (the product service answered), and a plain 503
// counts against inventory's circuit breaker in the gateway.
Problem no_stock(std::int64_t product_id, NamedIn where, ProductKnown known) {
  const std::string product = "Product " + std::to_string(product_id);
  if (known == ProductKnown::Yes) {
    std::vector<sales::FieldError> errors;
    if (where == NamedIn::Body) errors.push_back({"product_id", "has no stock yet: the product was created moments ago"});
    auto p = Problem::conflict(product + " was created moments ago and its stock is not in inventory yet: it follows "
                                         "the product's creation, normally within a second. Try again shortly. (Should "
                                         "it last, the product's creation event is held up: the broker, or inventory's "
                                         "dead-letter queue.)",
                               std::move(errors));
    p.type = std::string(kStockNotReady);
    p.headers.set("Retry-After", "1");
    return p;
  }
  const std::string detail = product + (known == ProductKnown::No
                                            ? " has no stock: it is unknown or deleted."
                                            : " has no stock: it is unknown, deleted, or was created moments ago (the "
                                              "product service could not be asked which).");
  if (where == NamedIn::Path) return Problem::not_found(detail);
  return Problem::unprocessable(detail, {{"product_id", "refers to no product with stock"}});
}

// The refusal of a product without live stock here. What is known of it: a deleted one's row
// says so; of any other, the product service is asked (product_check.hpp).
[[noreturn]] void refuse(const UnknownProduct& e, NamedIn where, ProductCheck& products, const http::Request& req) {
  throw ProblemError(no_stock(e.product_id, where, e.deleted ? ProductKnown::No : products.known(e.product_id, req)));
}

// A change of stock in one transaction: with an Idempotency-Key, a repeat of the same
// request returns the first response and changes nothing again (the gateway retries PUTs).
// A key belongs to one kind of change (`scope`), and what the request means (`asked`:
// the body, with the path's product id) tells a repeat from another request, however the
// path was spelt: /inventory/stock/7/adjust and /inventory/stock/07/adjust are one request.
template <class Change>
http::Response change(pg::Pool& pool, ProductCheck& products, const http::Request& req, std::string_view scope,
                      service::KeyedRequest asked, NamedIn product, Change&& apply) {
  try {
    return service::run_once(pool, scope, service::idempotency_key(req), asked,
                             [&](pg::Transaction& tx) { return http::ok(render(apply(tx))); });
  } catch (const UnknownProduct& e) {
    refuse(e, product, products, req);
  } catch (const StockRefused& e) {
    throw ProblemError(Problem::conflict(e.what()));
  }
}
}  // namespace

std::string render(const StockLevel& s) { return http::item_body(s, write); }

std::string render(const Reservation& r) {
  sales::json::Writer w;
  w.begin_object().field("order_id", r.order_id).field("status", to_string(r.status)).field("reason", r.reason);
  w.key("items").begin_array();
  for (const auto& item : r.items) {
    w.begin_object().field("product_id", item.product_id).field("quantity", item.quantity).end_object();
  }
  w.end_array().field("created_at", r.created_at).field("updated_at", r.updated_at).end_object();
  return w.take();
}

Take decode_take(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.allow_only({"product_id", "quantity"});
  auto product_id = in.id("product_id", true);
  auto quantity = in.integer("quantity", true, 1, kMaxTakeQuantity);
  in.finish();
  return {*product_id, *quantity};
}

std::int64_t decode_adjust(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.allow_only({"delta"});
  auto delta = in.integer("delta", true, -kMaxAdjustDelta, kMaxAdjustDelta);
  if (delta == 0) in.error("delta", "must not be zero: a positive delta adds stock, a negative one removes it");
  in.finish();
  return *delta;
}

void register_routes(http::Router& router, pg::Pool& pool, StockStore& stock, ReservationStore& reservations,
                     ProductCheck& products) {
  router.get("/inventory/stock", [&stock](http::Request& req, const http::PathParams&) {
    auto page = http::ListQuery(req).page();
    auto result = stock.list(page);
    return http::ok(http::list_body(result.items, result.total, page, write));
  });
  router.get("/inventory/stock/{product_id}", [&stock, &products](http::Request& req, const http::PathParams& params) {
    try {
      return http::ok(render(stock.level_of(params.id("product_id"))));
    } catch (const UnknownProduct& e) {
      refuse(e, NamedIn::Path, products, req);
    }
  });
  // The seed's call: takes quantity out of stock.
  router.put("/inventory/stock", [&pool, &products](http::Request& req, const http::PathParams&) {
    auto take = decode_take(req.body);
    // The scope a take's keys had before 7ad909e too: the route has one spelling that counts.
    return change(pool, products, req, "PUT /inventory/stock", {"", req.body}, NamedIn::Body, [&](pg::Transaction& tx) {
      return change_stock(tx, take.product_id, -take.quantity, MovementKind::Take);
    });
  });
  router.post("/inventory/stock/{product_id}/adjust", [&pool, &products](http::Request& req, const http::PathParams& params) {
    auto product_id = params.id("product_id");
    auto delta = decode_adjust(req.body);
    const std::string route = std::to_string(product_id) + " ";
    // Keys stored before 7ad909e are under the path and the body alone (kept at least 24 h;
    // after 48 h none is left and this lookup can go).
    const std::string legacy_scope = "POST /inventory/stock/" + std::to_string(product_id) + "/adjust";
    if (auto stored = service::stored_response(pool, legacy_scope, service::idempotency_key(req), {"", req.body})) {
      return std::move(*stored);
    }
    return change(pool, products, req, "inventory.adjust", {route, req.body}, NamedIn::Path, [&](pg::Transaction& tx) {
      return change_stock(tx, product_id, delta, MovementKind::Adjust);
    });
  });
  router.get("/inventory/reservations/{order_id}", [&reservations](http::Request&, const http::PathParams& params) {
    auto order_id = params.id("order_id");
    auto r = reservations.find(order_id);
    if (!r) throw ProblemError(Problem::not_found("Order " + std::to_string(order_id) + " has no reservation."));
    return http::ok(render(*r));
  });
}

}  // namespace inventory

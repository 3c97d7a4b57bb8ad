#include "api/payment_handlers.hpp"

#include "api/idempotent.hpp"
#include "sales/http/render.hpp"
#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"
#include "sales/money/money.hpp"

namespace payment {

namespace http = sales::http;
using sales::Problem;
using sales::ProblemError;

namespace {
void write(sales::json::Writer& w, const Payment& p) {
  w.begin_object().field("id", p.id).field("order_id", p.order_id).money_field("amount", p.amount_cents);
  w.field("status", to_string(p.status)).field("created_at", p.created_at).field("updated_at", p.updated_at);
  w.end_object();
}

Problem not_found(std::int64_t id) { return Problem::not_found("Payment", id); }

std::string location(const Payment& p) { return "/payments/" + std::to_string(p.id); }

// A PENDING payment is confirmed only while the order service still calls its order
// CONFIRMED (confirm_refusal). Asked before the transaction, so no row lock waits on another
// service; its answer is applied under the lock (decide), where a repeat that finds the
// payment CONFIRMED by a concurrent confirm still answers 200. A cancel that lands between
// this question and the commit is undone by the saga: payment.confirmed on a cancelled
// order has it refunded (docs/saga.md). A payment no longer PENDING when read asks nobody.
std::optional<std::string> order_refusal(PaymentStore& store, OrderClient& orders, std::int64_t id,
                                         const http::Request& req) {
  auto p = store.find(id);
  if (!p || p->status != PaymentStatus::Pending) return std::nullopt;
  return confirm_refusal(*p, orders.find(p->order_id, req));
}

// PUT /payments/{id}/confirm and /refund: no body, the same shape, the same key handling.
// `orders`: whom a confirm asks first (null for a refund, which needs nobody's word).
http::RouteHandler action_route(PaymentStore& store, PaymentAction action, OrderClient* orders) {
  return [&store, action, orders](http::Request& req, const http::PathParams& params) {
    auto id = params.id("id");
    // The router let through no body or {} alone (Body::None), so it is no part of the
    // request's identity. Read before the order service is asked: a malformed key is the
    // client's 400 whether or not that service answers, never a 503 the gateway retries.
    auto asked = idempotent_request(
        req, "PUT /payments/" + std::to_string(id) + (action == PaymentAction::Refund ? "/refund" : "/confirm"), false);
    const auto refusal = orders ? order_refusal(store, *orders, id, req) : std::nullopt;
    return run_once(store.pool(), std::move(asked), [&](sales::pg::Transaction& tx) {
      try {
        auto p = apply_action(tx, id, action, refusal);
        if (!p) throw ProblemError(not_found(id));
        return http::ok(render(*p));
      } catch (const PaymentConflict& e) {
        throw ProblemError(Problem::conflict(e.what()));
      }
    });
  };
}
}  // namespace

std::string render(const Payment& p) { return http::item_body(p, write); }

NewPayment decode_new_payment(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.allow_only({"order_id", "amount"});
  auto order_id = in.id("order_id", true);
  auto amount = in.money("amount", true);
  in.finish();
  return NewPayment{*order_id, *amount};
}

PaymentFilter decode_filter(http::ListQuery& query) {
  PaymentFilter f;
  f.order_id = query.id("order_id");
  f.status = query.parsed("status", parse_status, "must be one of PENDING, CONFIRMED, REFUNDED, CANCELLED");
  return f;
}

void require_payable(const OrderSnapshot& order, std::int64_t amount_cents) {
  auto id = std::to_string(order.id);
  switch (check_payable(order, amount_cents)) {
    case Payability::Payable: return;
    case Payability::OrderNotConfirmed:
      throw ProblemError(Problem::conflict("Order " + id + " is " + order.status +
                                           "; only a CONFIRMED order can be paid."));
    case Payability::AmountMismatch:
      throw ProblemError(Problem::unprocessable(
          "The amount does not match order " + id + "'s total of " + sales::money::format(order.total_cents) + ".",
          {{"amount", "must equal the order's total, " + sales::money::format(order.total_cents)}}));
  }
}

void register_routes(http::Router& router, PaymentStore& store, OrderClient& orders) {
  router.post("/payments", [&store, &orders](http::Request& req, const http::PathParams&) {
    auto idem = idempotent_request(req, "POST /payments", true);
    auto wanted = decode_new_payment(req.body);
    if (auto stored = replay(store.pool(), idem)) return *stored;
    auto order = orders.find(wanted.order_id, req);
    if (!order) {
      throw ProblemError(Problem::unprocessable("Order " + std::to_string(wanted.order_id) + " does not exist.",
                                                {{"order_id", "refers to no order"}}));
    }
    require_payable(*order, wanted.amount_cents);
    return run_once(store.pool(), idem, [&](sales::pg::Transaction& tx) {
      try {
        auto p = create_payment(tx, wanted);
        return http::created(render(p), location(p));
      } catch (const PaymentConflict& e) {
        throw ProblemError(Problem::conflict(e.what()));
      }
    });
  });
  router.get("/payments", [&store](http::Request& req, const http::PathParams&) {
    http::ListQuery query(req);
    auto filter = decode_filter(query);
    auto page = query.page();
    auto result = store.list(filter, page);
    return http::ok(http::list_body(result.items, result.total, page, write));
  });
  router.get("/payments/{id}", [&store](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    auto p = store.find(id);
    if (!p) throw ProblemError(not_found(id));
    return http::ok(render(*p));
  });
  router.put("/payments/{id}/confirm", action_route(store, PaymentAction::Confirm, &orders), http::Body::None);
  router.put("/payments/{id}/refund", action_route(store, PaymentAction::Refund, nullptr), http::Body::None);
}

}  // namespace payment

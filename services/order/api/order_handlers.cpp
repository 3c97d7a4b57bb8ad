#include "api/order_handlers.hpp"

#include "api/order_json.hpp"
#include "events/order_events.hpp"
#include "events/transitions.hpp"
#include "sales/http/render.hpp"
#include "sales/log/log.hpp"
#include "sales/money/money.hpp"
#include "sales/problem/problem.hpp"
#include "sales/service/idempotency.hpp"

namespace order {

namespace http = sales::http;
namespace pg = sales::pg;
namespace service = sales::service;
using sales::Problem;
using sales::ProblemError;

namespace {
constexpr std::string_view kIdempotencyScope = "orders";

Problem not_found(std::int64_t id) { return Problem::not_found("Order", id); }

std::string location(std::int64_t id) { return "/orders/" + std::to_string(id); }

CallContext call_context(const http::Request& req) {
  return {std::string(req.request_id()), std::string(req.headers.get("traceparent").value_or(""))};
}

PricedOrder checked_references(const NewOrder& wanted, Directory& directory, const http::Request& req) {
  Pricing pricing = price_order(wanted, directory, call_context(req));
  if (pricing.order) return std::move(*pricing.order);
  // What does not exist is the 422; only when all of it exists is a customer's state the 409.
  const bool unknown = !pricing.unknown.empty();
  const auto& refused = unknown ? pricing.unknown : pricing.unusable;
  std::vector<sales::FieldError> errors;
  for (const auto& r : refused) errors.push_back({r.field, r.message});
  std::string detail =
      "The order cannot be placed: " + sales::join_in_detail(refused.size(), [&](std::size_t i) { return refused[i].message; }) + ".";
  throw ProblemError(unknown ? Problem::unprocessable(std::move(detail), std::move(errors))
                             : Problem::conflict(std::move(detail), std::move(errors)));
}

// The 503 naming the owner that could not be asked, and what became of the order.
Problem owner_unavailable(const DirectoryUnavailable& e, std::string_view outcome) {
  return Problem::dependency_unavailable(e.service(),
                                         "The order cannot be checked right now (" + std::string(e.what()) + "); " + std::string(outcome));
}

http::Response place(const OrderRoutes& d, http::Request& req) {
  auto key = service::idempotency_key(req);
  NewOrder wanted = decode_new_order(req.body);
  PricedOrder priced;
  std::optional<Problem> failure;
  std::optional<DirectoryUnavailable> owner_out;
  try {
    // The owners are asked before any transaction opens: no row lock waits on the network.
    priced = checked_references(wanted, d.directory, req);
  } catch (const ProblemError& e) {
    failure = e.problem();
  } catch (const DirectoryUnavailable& e) {
    owner_out = e;
    failure = owner_unavailable(e, "nothing was saved. Try again shortly.");
  }
  std::optional<std::int64_t> total;
  if (!failure) {
    total = order_total(priced.lines);
    if (!total) {
      failure = Problem::bad_request("The order's total is too large.",
                                     {{"items", "the total must not exceed " + sales::money::format(sales::money::kMaxCents)}});
    }
  }
  // A repeat of a request that was answered is answered the same, whatever the owners say
  // now (a price raised since can push its total past the limit).
  if (failure) {
    try {
      if (auto replay = service::stored_response(d.db, kIdempotencyScope, key, {"", req.body})) return *replay;
    } catch (const pg::DeadlineExceeded&) {
      // An owner that did not answer used the time up to the deadline: the answer is the
      // 503 naming it (which the gateway's breaker counts against no one), not a 504 of
      // ours. The key's earlier answer could not be looked for: an earlier request with it
      // (one whose answer was lost) may have placed the order, and the next repeat gets it.
      if (!owner_out) throw;
      failure = owner_unavailable(*owner_out, "an earlier request with this Idempotency-Key may have placed the order; "
                                              "repeating this one with the same key returns that order, or places it once.");
    }
    throw ProblemError(std::move(*failure));
  }

  std::optional<Order> placed;  // the run that committed (a deadlock's retry replaces it)
  auto response = service::run_once(d.db, kIdempotencyScope, key, {"", req.body}, [&](pg::Transaction& tx) {
    placed = d.store.insert(tx, priced, *total);
    publish(tx, placed->id, created_event(*placed));
    return http::created(render(*placed, false), location(placed->id));
  });
  if (placed && !response.headers.get("Idempotent-Replayed")) {
    sales::log::info("order {} placed: customer {}, {} lines, total {}", placed->id, placed->customer_id,
                     placed->items.size(), sales::money::format(placed->total_cents));
  }
  return response;
}

// With an Idempotency-Key, a repeat of a cancel that was made (its answer lost, the
// gateway's retry) gets that answer again instead of a 409 for the CANCELLED order. The key
// space is the orders': what identifies a request holds the path, so the key of another order's
// cancel, or of a placement, is the 422 of "another request".
http::Response cancel(const OrderRoutes& d, std::int64_t id, const http::Request& req) {
  auto key = service::idempotency_key(req);
  std::string reason = decode_cancel_reason(req.body);
  const std::string route = "POST " + location(id) + "/cancel\n";
  std::optional<Status> previous;  // the status this request's cancel moved it from
  auto response = service::run_once(d.db, kIdempotencyScope, key, {route, req.body}, [&](pg::Transaction& tx) {
    previous.reset();  // a run before a deadlock's retry did not count
    auto locked = d.store.lock(tx, id);  // until commit: no event handler moves it meanwhile
    if (!locked) throw ProblemError(not_found(id));
    if (!can_cancel(locked->status)) {
      throw ProblemError(Problem::conflict("Order " + std::to_string(id) + " is " + std::string(name(locked->status)) +
                                           " and can no longer be cancelled; only PENDING, CONFIRMED or PAID orders can."));
    }
    previous = locked->status;
    transition(d.store, tx, *locked, Status::Cancelled, reason);
    return http::ok(render(*d.store.find(tx, id), true));
  });
  // Not for a replay: a retry after a deadlock may have found the key's answer stored by
  // a concurrent repeat, after an earlier run of ours had set `previous`.
  if (previous && !response.headers.get("Idempotent-Replayed")) {
    sales::log::info("order {} cancelled from {}: {}", id, name(*previous), reason);
  }
  return response;
}

// A PAID order's payment may have been refunded at the payment service before this order
// applied payment.refunded (the broker down, a consumer behind): a refund answered before
// the shipment was asked for must stop it (DESIGN §4.7: an order refunded before it ships is
// cancelled). So the payment service is asked; a refunded payment is a 409. Anything but
// CONFIRMED or REFUNDED (a payment it does not know: a restored database, a wrong
// PAYMENT_SERVICE_URL) is an inconsistency no retry or event will mend: logged, and a 503.
ProblemError payment_unchecked(const DirectoryUnavailable& e) {
  return ProblemError(Problem::dependency_unavailable(e.service(), "The order's payment cannot be checked right now (" +
                                                                          std::string(e.what()) + "); nothing was shipped. Try again shortly."));
}

void require_payment_held(const OrderRoutes& d, std::int64_t order_id, std::int64_t payment_id,
                          const http::Request& req) {
  std::optional<std::string> status;
  try {
    status = d.directory.payment_status(payment_id, call_context(req));
  } catch (const DirectoryUnavailable& e) {
    throw payment_unchecked(e);
  }
  if (status == "CONFIRMED") return;
  if (status == "REFUNDED") {
    throw ProblemError(Problem::conflict("Order " + std::to_string(order_id) + " cannot be shipped: its payment " +
                                         std::to_string(payment_id) +
                                         " was refunded, and the order is cancelled when that reaches it."));
  }
  sales::log::error("order {} is PAID by payment {}, which the payment service reports as {}", order_id, payment_id,
                    status.value_or("unknown (404)"));
  throw ProblemError(Problem::dependency_unavailable("payment", "Order " + std::to_string(order_id) + "'s payment " +
                                          std::to_string(payment_id) +
                                          " cannot be confirmed with the payment service; nothing was shipped."));
}

// An order made PAID before migration 0005 recorded the payment that paid (paid_by NULL):
// that is the payment the payment service holds CONFIRMED for the order. A REFUNDED one
// instead is a 409, as for a known payment refunded; neither is the inconsistency
// require_payment_held reports (a restored database, a wrong PAYMENT_SERVICE_URL).
std::int64_t payment_that_paid(const OrderRoutes& d, std::int64_t order_id, const http::Request& req) {
  PaymentsOfOrder payments;
  try {
    payments = d.directory.payments_of(order_id, call_context(req));
  } catch (const DirectoryUnavailable& e) {
    throw payment_unchecked(e);
  }
  if (payments.confirmed) return *payments.confirmed;
  if (payments.refunded) {
    throw ProblemError(Problem::conflict("Order " + std::to_string(order_id) +
                                         " cannot be shipped: its payment was refunded, and the order is cancelled "
                                         "when that reaches it."));
  }
  sales::log::error("order {} is PAID, and the payment service holds no confirmed or refunded payment for it", order_id);
  throw ProblemError(Problem::dependency_unavailable("payment", "Order " + std::to_string(order_id) +
                                          "'s payment cannot be found at the payment service; nothing was shipped."));
}

// A CONFIRMED order may be paid already: its payment confirmed moments ago, the
// payment.confirmed on its way (a back office that confirms a payment and ships at once was
// refused 8 times in 30 by a black-box probe). The payment service's CONFIRMED payment of the
// order, if it holds one; none, or the payment service out of reach, leaves the order
// unpaid (the 409 of before: nothing ships on a guess).
std::optional<std::int64_t> payment_confirmed_unheard(const OrderRoutes& d, std::int64_t order_id,
                                                      const http::Request& req) {
  try {
    return d.directory.payments_of(order_id, call_context(req)).confirmed;
  } catch (const DirectoryUnavailable& e) {
    sales::log::info("order {} is CONFIRMED and its payments could not be asked about ({}): not shipped", order_id,
                     e.what());
    return std::nullopt;
  }
}

// Shipping asks before it ships: the order's row lock orders a shipment against a cancel
// or the order's own view of a refund, and the payment service is asked about a refund
// the order has not applied yet, so a cancel or refund that came first always wins (the
// shipment gets 409); and about a payment confirmed whose event has not come yet (above).
// Internal: the gateway routes no /internal path. Repeating it for a SHIPPED order answers
// 200 (a retry).
http::Response ship(const OrderRoutes& d, std::int64_t id, const http::Request& req) {
  std::string shipment = req.body.empty() ? std::string("shipment shipped") : decode_cancel_reason(req.body);
  // The payment service is asked before the row lock is taken, so no lock (nor a database
  // connection) waits on the network; under the lock the order must still be PAID by the
  // payment that was asked about (paid_by is set with the move to PAID and never after).
  std::optional<std::int64_t> asked, confirmed_unheard;
  if (auto seen = d.store.peek(id); seen && seen->status == Status::Paid) {
    if (seen->paid_by) require_payment_held(d, id, *seen->paid_by, req);
    asked = seen->paid_by ? *seen->paid_by : payment_that_paid(d, id, req);
  } else if (seen && seen->status == Status::Confirmed) {
    confirmed_unheard = payment_confirmed_unheard(d, id, req);
  }
  // Without a key (shipping's is one per call): run_once only commits, and runs it again
  // after a deadlock; nothing here but the transaction changes anything.
  return service::run_once(d.db, kIdempotencyScope, std::nullopt, {}, [&](pg::Transaction& tx) {
    auto locked = d.store.lock(tx, id);
    if (!locked) throw ProblemError(not_found(id));
    if (locked->status == Status::Shipped) return http::ok(render(*d.store.find(tx, id), true));
    if (locked->status == Status::Confirmed && confirmed_unheard) {
      // As its payment.confirmed will: PAID by that payment (order.paid for shipping); the
      // event, when it comes, fits no more and is ignored.
      transition(d.store, tx, *locked, Status::Paid,
                 "payment " + std::to_string(*confirmed_unheard) +
                     " confirmed (the payment service's word, asked by the shipment)",
                 confirmed_unheard);
      asked = confirmed_unheard;
    }
    if (locked->status != Status::Paid) {
      throw ProblemError(Problem::conflict("Order " + std::to_string(id) + " is " + std::string(name(locked->status)) +
                                           "; only a PAID order can be shipped."));
    }
    // It became PAID after the read above (a rare race): asked now, under the lock.
    if (locked->paid_by && locked->paid_by != asked) require_payment_held(d, id, *locked->paid_by, req);
    transition(d.store, tx, *locked, Status::Shipped, shipment);
    // Shipping records its own SHIPPED after this answer; should it die in between, this
    // event brings its shipment in line (docs/saga.md).
    publish(tx, id, shipped_event(id));
    return http::ok(render(*d.store.find(tx, id), true));
  });
}

}  // namespace

void register_routes(http::Router& router, OrderRoutes deps) {
  router.post("/orders", [deps](http::Request& req, const http::PathParams&) { return place(deps, req); });
  router.get("/orders", [deps](http::Request& req, const http::PathParams&) {
    http::ListQuery query(req);
    auto filter = decode_filter(query);
    auto page = query.page();
    auto result = deps.store.list(filter, page);
    return http::ok(http::list_body(result.items, result.total, page,
                                    [](sales::json::Writer& w, const Order& o) { write(w, o, false); }));
  });
  router.get("/orders/{id}", [deps](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    auto o = deps.store.find(id);
    if (!o) throw ProblemError(not_found(id));
    return http::ok(render(*o, true));
  });
  router.post("/orders/{id}/cancel", [deps](http::Request& req, const http::PathParams& params) {
    return cancel(deps, params.id("id"), req);
  });
  router.post("/internal/orders/{id}/ship", [deps](http::Request& req, const http::PathParams& params) {
    return ship(deps, params.id("id"), req);
  });
}

}  // namespace order

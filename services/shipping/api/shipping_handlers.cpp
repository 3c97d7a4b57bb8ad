#include "api/shipping_handlers.hpp"

#include "sales/http/render.hpp"
#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"

namespace shipping {

namespace http = sales::http;
using sales::Problem;
using sales::ProblemError;

namespace {
constexpr std::size_t kMaxStatusLength = 32;
const std::string kStatusMessage = "must be one of " + std::string(kStatusNames);

void write_fields(sales::json::Writer& w, const Shipment& s) {
  w.field("id", s.id).field("order_id", s.order_id).field("status", to_string(s.status)).field("address", s.address);
  w.field("order_paid", s.order_paid).field("created_at", s.created_at).field("updated_at", s.updated_at);
  w.field("shipped_at", s.shipped_at).field("delivered_at", s.delivered_at);
}

void write(sales::json::Writer& w, const Shipment& s) {
  w.begin_object();
  write_fields(w, s);
  w.end_object();
}

std::string shipment_name(std::int64_t id) { return "Shipment " + std::to_string(id); }
Problem not_found(std::int64_t id) { return Problem::not_found("Shipment", id); }
}  // namespace

std::int64_t decode_new_shipment(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.allow_only({"order_id"});
  auto order_id = in.id("order_id", true);
  in.finish();
  return *order_id;
}

ShipmentStatus decode_status_update(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.allow_only({"status"});
  auto text = in.string("status", true, kMaxStatusLength, 1);
  std::optional<ShipmentStatus> status;
  if (text) {
    status = parse_status(*text);
    if (!status) in.error("status", kStatusMessage);
  }
  in.finish();
  return *status;
}

ShipmentFilter decode_filter(http::ListQuery& query) {
  ShipmentFilter f;
  f.order_id = query.id("order_id");
  f.status = query.parsed("status", parse_status, kStatusMessage);
  return f;
}

std::string render(const Shipment& s) { return http::item_body(s, write); }

std::string render(const Shipment& s, const std::vector<HistoryEntry>& history) {
  sales::json::Writer w;
  w.begin_object();
  write_fields(w, s);
  w.key("history").begin_array();
  for (const auto& h : history) {
    w.begin_object().field("status", to_string(h.status)).field("reason", h.reason).field("at", h.at).end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::optional<Problem> update_problem(const UpdateResult& result, ShipmentStatus to) {
  const auto& s = result.shipment;
  switch (result.verdict) {
    case UpdateVerdict::Apply:
    case UpdateVerdict::AlreadyApplied: return std::nullopt;
    case UpdateVerdict::NotPaid:
      return Problem::conflict(shipment_name(s.id) + " cannot be shipped yet: order " + std::to_string(s.order_id) +
                               " is not paid yet.");
    case UpdateVerdict::NotAllowed: break;
  }
  return Problem::conflict(shipment_name(s.id) + " is " + std::string(to_string(result.from)) + ": " +
                           std::string(to_string(result.from)) + " → " + std::string(to_string(to)) +
                           " is not allowed (only PENDING → SHIPPED once the order is paid, and SHIPPED → DELIVERED).");
}

void register_routes(http::Router& router, ShipmentStore& store, OrderClient& orders) {
  // The seed's call: the order's one shipment, made now only when it has none.
  router.post("/shipping", [&store, &orders](http::Request& req, const http::PathParams&) {
    auto order_id = decode_new_shipment(req.body);
    if (auto existing = store.find_by_order(order_id)) return http::ok(render(*existing));
    auto order = orders.fetch(order_id, req);
    if (!order) {
      throw ProblemError(Problem::unprocessable("Order " + std::to_string(order_id) + " does not exist.",
                                                {{"order_id", "refers to no order"}}));
    }
    auto initial = initial_state(order->status);
    auto made = store.create_for_order(
        {order_id, initial.status, order->shipping_address, initial.order_paid, "POST /shipping"});
    if (!made.created) return http::ok(render(made.shipment));
    return http::created(render(made.shipment), "/shipping/" + std::to_string(made.shipment.id));
  });
  router.get("/shipping", [&store](http::Request& req, const http::PathParams&) {
    http::ListQuery query(req);
    auto filter = decode_filter(query);
    auto page = query.page();
    auto result = store.list(filter, page);
    return http::ok(http::list_body(result.items, result.total, page, write));
  });
  router.get("/shipping/{id}", [&store](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    auto s = store.find(id);
    if (!s) throw ProblemError(not_found(id));
    return http::ok(render(*s, store.history(id)));
  });
  router.put("/shipping/{id}", [&store, &orders](http::Request& req, const http::PathParams& params) {
    auto id = params.id("id");
    auto to = decode_status_update(req.body);
    // Shipping asks the order (the saga's authority) first: a cancel or refund racing this
    // shipment is ordered by the order's row lock, so exactly one of them wins.
    auto result = store.update_status(id, to, [&](const Shipment& s) {
      if (to == ShipmentStatus::Shipped) orders.ship(s.order_id, s.id, req);
    });
    if (!result) throw ProblemError(not_found(id));
    if (auto problem = update_problem(*result, to)) throw ProblemError(*problem);
    return http::ok(render(result->shipment));
  });
}

}  // namespace shipping

#include "api/product_handlers.hpp"

#include "sales/http/render.hpp"
#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"
#include "sales/service/idempotency.hpp"

namespace product {

namespace http = sales::http;
namespace service = sales::service;
using sales::Problem;
using sales::ProblemError;

namespace {
void write(sales::json::Writer& w, const Product& p) {
  w.begin_object().field("id", p.id).field("name", p.name).field("description", p.description);
  w.money_field("price", p.price_cents).field("stock", p.stock);
  w.field("created_at", p.created_at).field("updated_at", p.updated_at).end_object();
}

Problem not_found(std::int64_t id) { return Problem::not_found("Product", id); }

// A product may be reused for a second by the gateway's cache (which drops it on a write
// through that gateway) and by browsers. Its stock is a read copy, eventually consistent
// anyway (DESIGN §3); name and price changed through another gateway replica show within
// the gateway's cap (GATEWAY_CACHE_MAX_TTL_MS). Lists and searches are not cacheable.
constexpr std::string_view kItemCacheControl = "max-age=1";

// ?ids=: an order has at most 100 lines, so the order service asks for at most 100.
constexpr std::size_t kMaxIds = 100;
}  // namespace

ProductFilter decode_filter(http::ListQuery& query) {
  return {.name_contains = query.text("q", kMaxNameLength), .ids = query.ids("ids", kMaxIds)};
}

std::string render(const Product& p) { return http::item_body(p, write); }

NewProduct decode_new_product(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.refuse_server_fields();
  in.allow_only({"name", "price", "description", "stock"});
  NewProduct p;
  auto name = in.line("name", true, kMaxNameLength, 1);
  auto price = in.money("price", true);
  p.description = in.lines("description", false, kMaxDescriptionLength);
  auto stock = in.integer("stock", false, 0, kMaxInitialStock);
  in.finish();
  p.name = *name;
  p.price_cents = *price;
  p.stock = stock.value_or(0);
  return p;
}

ProductPatch decode_patch(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.refuse({"stock"}, "is managed by the inventory service: use POST /inventory/stock/{product_id}/adjust");
  in.refuse_server_fields();
  in.allow_only({"name", "price", "description"});
  ProductPatch p;
  if (in.has("name") && in.is_null("name")) in.error("name", "must not be null");
  if (in.has("price") && in.is_null("price")) in.error("price", "must not be null");
  p.name = in.line("name", false, kMaxNameLength, 1);
  p.price_cents = in.money("price", false);
  p.clear_description = in.is_null("description");
  p.description = in.lines("description", false, kMaxDescriptionLength);
  if (in.ok() && p.empty()) in.error("body", "must contain at least one of name, description, price");
  in.finish();
  return p;
}

void register_routes(http::Router& router, ProductStore& store) {
  router.post("/products", [&store](http::Request& req, const http::PathParams&) {
    auto key = service::idempotency_key(req);
    auto wanted = decode_new_product(req.body);
    return service::run_once(store.pool(), "products", key, {"", req.body}, [&](sales::pg::Transaction& tx) {
      auto created = store.create(tx, wanted);
      return http::created(render(created), "/products/" + std::to_string(created.id));
    });
  });
  router.get("/products", [&store](http::Request& req, const http::PathParams&) {
    http::ListQuery query(req);
    auto filter = decode_filter(query);
    auto page = query.page();
    auto result = store.list(filter, page);
    return http::ok(http::list_body(result.items, result.total, page, write));
  });
  router.get("/products/{id}", [&store](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    auto p = store.find(id);
    if (!p) throw ProblemError(not_found(id));
    auto r = http::ok(render(*p));
    r.headers.set_unchecked_copy("Cache-Control", kItemCacheControl);  // a constant: nothing to check
    return r;
  });
  router.put("/products/{id}", [&store](http::Request& req, const http::PathParams& params) {
    auto id = params.id("id");
    auto p = store.update(id, decode_patch(req.body));
    if (!p) throw ProblemError(not_found(id));
    return http::ok(render(*p));
  });
  router.del("/products/{id}", [&store](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    if (!store.remove(id)) throw ProblemError(not_found(id));
    return http::Response::empty(204);
  });
}

}  // namespace product

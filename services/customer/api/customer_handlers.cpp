#include "api/customer_handlers.hpp"

#include "sales/http/render.hpp"
#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"
#include "sales/service/idempotency.hpp"

namespace customer {

namespace http = sales::http;
namespace service = sales::service;
using sales::Problem;
using sales::ProblemError;

namespace {
void write(sales::json::Writer& w, const Customer& c) {
  w.begin_object().field("id", c.id).field("name", c.name);
  w.field("address", c.address).field("contact", c.contact).field("email", c.email);
  w.field("created_at", c.created_at).field("updated_at", c.updated_at).end_object();
}

Problem not_found(std::int64_t id) { return Problem::not_found("Customer", id); }
Problem duplicate_email() {
  // Named, so that a form can mark the field as it does for a 400.
  return Problem::conflict("Another customer already has this email address.", {{"email", "is taken by another customer"}});
}

std::optional<std::string> read_email(sales::json::FieldReader& in) {
  auto email = in.string("email", false, kMaxEmailLength);
  if (email && !valid_email(*email)) {
    in.error("email", "must be a valid email address such as name@example.com");
    return std::nullopt;
  }
  return email;
}
}  // namespace

std::string render(const Customer& c) { return http::item_body(c, write); }

NewCustomer decode_new_customer(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.refuse_server_fields();
  in.allow_only({"name", "address", "contact", "email"});
  NewCustomer c;
  auto name = in.line("name", true, kMaxNameLength, 1);
  c.address = in.lines("address", false, kMaxAddressLength, 1);
  c.contact = in.line("contact", false, kMaxContactLength);
  c.email = read_email(in);
  in.finish();
  c.name = *name;
  return c;
}

CustomerPatch decode_patch(std::string_view body) {
  auto obj = sales::json::parse_object(body);
  sales::json::FieldReader in(obj);
  in.refuse_server_fields();
  in.allow_only({"name", "address", "contact", "email"});
  CustomerPatch p;
  if (in.is_null("name")) in.error("name", "must not be null");
  p.name = in.line("name", false, kMaxNameLength, 1);
  p.address = in.lines("address", false, kMaxAddressLength, 1);
  p.contact = in.line("contact", false, kMaxContactLength);
  p.email = read_email(in);
  p.clear_address = in.is_null("address");
  p.clear_contact = in.is_null("contact");
  p.clear_email = in.is_null("email");
  if (in.ok() && p.empty()) in.error("body", "must contain at least one of name, address, contact, email");
  in.finish();
  return p;
}

void register_routes(http::Router& router, CustomerStore& store) {
  router.post("/customers", [&store](http::Request& req, const http::PathParams&) {
    auto key = service::idempotency_key(req);
    auto wanted = decode_new_customer(req.body);
    try {
      return service::run_once(store.pool(), "customers", key, {"", req.body}, [&](sales::pg::Transaction& tx) {
        auto c = store.create(tx, wanted);
        return http::created(render(c), "/customers/" + std::to_string(c.id));
      });
    } catch (const DuplicateEmail&) {
      throw ProblemError(duplicate_email());
    }
  });
  router.get("/customers", [&store](http::Request& req, const http::PathParams&) {
    http::ListQuery query(req);
    // Only a valid address can match one: anything else (empty; a + sent unescaped, read
    // as a space) is a 400, not an empty list.
    auto email = query.parsed(
        "email", [](std::string_view v) { return valid_email(v) ? std::optional<std::string>(v) : std::nullopt; },
        "must be a valid email address (a + written %2B)");
    auto page = query.page();
    auto result = store.list(email, page);
    return http::ok(http::list_body(result.items, result.total, page, write));
  });
  router.get("/customers/{id}", [&store](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    auto c = store.find(id);
    if (!c) throw ProblemError(not_found(id));
    return http::ok(render(*c));
  });
  router.put("/customers/{id}", [&store](http::Request& req, const http::PathParams& params) {
    auto id = params.id("id");
    try {
      auto c = store.update(id, decode_patch(req.body));
      if (!c) throw ProblemError(not_found(id));
      return http::ok(render(*c));
    } catch (const DuplicateEmail&) {
      throw ProblemError(duplicate_email());
    }
  });
  router.del("/customers/{id}", [&store](http::Request&, const http::PathParams& params) {
    auto id = params.id("id");
    if (!store.remove(id)) throw ProblemError(not_found(id));
    return http::Response::empty(204);
  });
}

}  // namespace customer

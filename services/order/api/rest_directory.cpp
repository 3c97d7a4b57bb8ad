#include "api/rest_directory.hpp"

#include <boost/json/parse.hpp>
#include <algorithm>

#include "sales/http/list_query.hpp"
#include "sales/json/read.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace http = sales::http;

namespace {
// The owner's answer to GET `target`, whatever its status. Throws DirectoryUnavailable when
// there is none.
http::Response ask(http::Client& client, std::string_view owner, const std::string& target, const CallContext& context) {
  http::Headers headers;
  headers.set("Accept", "application/json");
  if (!context.request_id.empty()) headers.set("X-Request-Id", context.request_id);
  if (!context.traceparent.empty()) headers.set("traceparent", context.traceparent);
  try {
    return client.get(target, headers);
  } catch (const http::ClientError& e) {
    const char* why = e.timed_out() ? "did not answer in time" : "unreachable";
    sales::log::warn("{} service {}: {}", owner, why, e.what());
    throw DirectoryUnavailable(std::string(owner), why);
  }
}

// Whether a 400 says that ?ids= is not a parameter of the list (sales::http::ListQuery's
// answer to a name it does not take, http::kNotAListParameter), rather than that our
// request was wrong.
bool refuses_ids(std::string_view problem_body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(problem_body, ec);
  const auto* errors = !ec && v.is_object() ? v.as_object().if_contains("errors") : nullptr;
  if (!errors || !errors->is_array()) return false;
  for (const auto& e : errors->as_array()) {
    const auto* field = e.is_object() ? e.as_object().if_contains("field") : nullptr;
    const auto* message = e.is_object() ? e.as_object().if_contains("message") : nullptr;
    if (field && field->is_string() && field->as_string() == "ids" && message && message->is_string() &&
        message->as_string() == http::kNotAListParameter) {
      return true;
    }
  }
  return false;
}

[[noreturn]] void unexpected(std::string_view owner, const std::string& target, int status) {
  sales::log::warn("{} service answered {} to GET {}", owner, status, target);
  throw DirectoryUnavailable(std::string(owner), "answered " + std::to_string(status));
}

// The owner's representation; nullopt when it says 404 (no such resource).
std::optional<std::string> fetch(http::Client& client, std::string_view owner, const std::string& target,
                                 const CallContext& context) {
  auto res = ask(client, owner, target, context);
  if (res.status == 404) return std::nullopt;
  if (res.status != 200) unexpected(owner, target, res.status);
  return std::move(res.body);
}

boost::json::object parse_representation(std::string_view body, std::string_view owner) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    throw DirectoryUnavailable(std::string(owner), "sent a body that is not a JSON object");
  }
  return std::move(v.as_object());
}

// The items of a list answer ({"items": [...], ...}).
boost::json::array items_of(std::string_view list_body, std::string_view owner) {
  auto list = parse_representation(list_body, owner);
  auto* items = list.if_contains("items");
  if (!items || !items->is_array()) throw DirectoryUnavailable(std::string(owner), "sent a list without items");
  return std::move(items->as_array());
}
}  // namespace

CustomerSnapshot parse_customer(std::string_view body) {
  auto obj = parse_representation(body, "customer");
  CustomerSnapshot c;
  auto it = obj.find("address");
  if (it == obj.end() || it->value().is_null()) return c;
  if (!it->value().is_string()) throw DirectoryUnavailable("customer", "sent an address that is not a string");
  c.address = std::string(it->value().as_string());
  return c;
}

namespace {
ProductSnapshot product_of(const boost::json::object& obj) {
  sales::json::FieldReader in(obj);
  auto price = in.money("price", true);
  if (!price) throw DirectoryUnavailable("product", "sent no valid price");
  return {*price};
}
}  // namespace

ProductSnapshot parse_product(std::string_view body) { return product_of(parse_representation(body, "product")); }

std::map<std::int64_t, ProductSnapshot> parse_products(std::string_view list_body) {
  std::map<std::int64_t, ProductSnapshot> out;
  for (const auto& item : items_of(list_body, "product")) {
    const auto* id = item.is_object() ? item.as_object().if_contains("id") : nullptr;
    if (!id || !id->is_int64() || id->as_int64() < 1) throw DirectoryUnavailable("product", "sent an item without an id");
    out.emplace(id->as_int64(), product_of(item.as_object()));
  }
  return out;
}

std::optional<CustomerSnapshot> RestDirectory::customer(std::int64_t id, const CallContext& context) {
  auto body = fetch(customers_, "customer", "/customers/" + std::to_string(id), context);
  if (!body) return std::nullopt;
  return parse_customer(*body);
}

std::optional<ProductSnapshot> RestDirectory::product(std::int64_t id, const CallContext& context) {
  auto body = fetch(products_, "product", "/products/" + std::to_string(id), context);
  if (!body) return std::nullopt;
  return parse_product(*body);
}

std::optional<std::string> RestDirectory::payment_status(std::int64_t payment_id, const CallContext& context) {
  auto body = fetch(payments_, "payment", "/payments/" + std::to_string(payment_id), context);
  if (!body) return std::nullopt;
  auto obj = parse_representation(*body, "payment");
  const auto* status = obj.if_contains("status");
  if (!status || !status->is_string()) throw DirectoryUnavailable("payment", "sent a payment without a status");
  return std::string(status->as_string());
}

PaymentsOfOrder RestDirectory::payments_of(std::int64_t order_id, const CallContext& context) {
  // At most one payment of an order is not CANCELLED, and one is CANCELLED only once the
  // order is: a page of four is short, so no count(*) is run.
  const std::string target = "/payments?order_id=" + std::to_string(order_id) + "&limit=4";
  auto res = ask(payments_, "payment", target, context);
  if (res.status != 200) unexpected("payment", target, res.status);
  PaymentsOfOrder out;
  for (const auto& item : items_of(res.body, "payment")) {
    const auto* p = item.if_object();
    const auto* id = p ? p->if_contains("id") : nullptr;
    const auto* status = p ? p->if_contains("status") : nullptr;
    const auto* created = p ? p->if_contains("created_at") : nullptr;
    const auto* updated = p ? p->if_contains("updated_at") : nullptr;
    if (!id || !id->is_int64() || id->as_int64() < 1 || !status || !status->is_string() || !created ||
        !created->is_string() || !updated || !updated->is_string()) {
      throw DirectoryUnavailable("payment", "sent a payment without an id, a status, created_at or updated_at");
    }
    if (status->as_string() == "CONFIRMED") {
      out.confirmed = id->as_int64();
      out.confirmed_at = std::string(updated->as_string());
    }
    if (status->as_string() == "REFUNDED") out.refunded = true;
    if (status->as_string() == "PENDING") out.pending_since = std::string(created->as_string());
  }
  return out;
}

// The product service takes at most 100 ids at once (product_handlers.cpp, kMaxIds).
static_assert(kMaxLines <= 100, "an order's products no longer fit one GET /products?ids=");

std::map<std::int64_t, ProductSnapshot> RestDirectory::find_products(const std::vector<std::int64_t>& ids,
                                                                     const CallContext& context) {
  if (ids.size() < 2) return Directory::find_products(ids, context);
  // One more than can come back: a short page is its own total, so the product service runs
  // no count(*) for it and keeps no total for this one-off filter (sales/pg/total_cache.hpp).
  std::string target = "/products?limit=" + std::to_string(ids.size() + 1) + "&ids=";
  for (std::size_t i = 0; i < ids.size(); ++i) target.append(i ? "," : "").append(std::to_string(ids[i]));
  auto res = ask(products_, "product", target, context);
  if (res.status == 400 && refuses_ids(res.body)) {
    // An older product service (a rolling upgrade): one call per product, as it takes them.
    sales::log::warn("the product service does not take ?ids= yet; asking for {} products one by one", ids.size());
    return Directory::find_products(ids, context);
  }
  if (res.status != 200) unexpected("product", target, res.status);
  auto found = parse_products(res.body);
  // A list that ignored ?ids= would show other products and make real ones look unknown.
  for (const auto& [id, snapshot] : found) {
    if (!std::binary_search(ids.begin(), ids.end(), id)) {
      throw DirectoryUnavailable("product", "answered ?ids= with product " + std::to_string(id) + ", not asked for");
    }
  }
  return found;
}

http::ClientOptions upstream_options(sales::config::Env& env, const std::string& variable,
                                     const std::string& default_url) {
  http::ClientOptions opts;
  opts.base_url = http::base_url_from_env(env, variable, default_url);
  opts.timeout = env.millis("UPSTREAM_TIMEOUT_MS", 2000, 10, 60'000);
  return opts;
}

}  // namespace order

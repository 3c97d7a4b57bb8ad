#include "api/rest_directory.hpp"

#include <boost/json/parse.hpp>

#include "sales/json/read.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace http = sales::http;

namespace {
// The owner's representation; nullopt when it says 404 (no such resource).
std::optional<std::string> fetch(http::Client& client, std::string_view owner, const std::string& target,
                                 const CallContext& context) {
  http::Headers headers;
  headers.set("Accept", "application/json");
  if (!context.request_id.empty()) headers.set("X-Request-Id", context.request_id);
  if (!context.traceparent.empty()) headers.set("traceparent", context.traceparent);
  http::Response res;
  try {
    res = client.get(target, headers);
  } catch (const http::ClientError& e) {
    sales::log::warn("{} service unreachable: {}", owner, e.what());
    throw DirectoryUnavailable(std::string(owner) + " service unreachable");
  }
  if (res.status == 404) return std::nullopt;
  if (res.status != 200) {
    sales::log::warn("{} service answered {} to GET {}", owner, res.status, target);
    throw DirectoryUnavailable(std::string(owner) + " service answered " + std::to_string(res.status));
  }
  return std::move(res.body);
}

boost::json::object parse_representation(std::string_view body, std::string_view owner) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) {
    throw DirectoryUnavailable(std::string(owner) + " service sent a body that is not a JSON object");
  }
  return std::move(v.as_object());
}
}  // namespace

CustomerSnapshot parse_customer(std::string_view body) {
  auto obj = parse_representation(body, "customer");
  CustomerSnapshot c;
  auto it = obj.find("address");
  if (it == obj.end() || it->value().is_null()) return c;
  if (!it->value().is_string()) throw DirectoryUnavailable("customer service sent an address that is not a string");
  c.address = std::string(it->value().as_string());
  return c;
}

ProductSnapshot parse_product(std::string_view body) {
  auto obj = parse_representation(body, "product");
  sales::json::FieldReader in(obj);
  auto price = in.money("price", true);
  if (!price) throw DirectoryUnavailable("product service sent no valid price");
  return {*price};
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

http::ClientOptions upstream_options(sales::config::Env& env, const std::string& variable,
                                     const std::string& default_url) {
  http::ClientOptions opts;
  opts.base_url = http::base_url_from_env(env, variable, default_url);
  opts.timeout = env.millis("UPSTREAM_TIMEOUT_MS", 2000, 10, 60'000);
  return opts;
}

}  // namespace order

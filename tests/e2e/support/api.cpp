#include "support/api.hpp"

#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>

#include "sales/http/client.hpp"
#include "sales/http/header_lists.hpp"
#include "sales_test/env.hpp"
#include "sales_test/problem_check.hpp"
#include "support/products.hpp"

namespace e2e {

namespace http = sales::http;

namespace {
http::Client& client() {
  static std::once_flag once;
  static std::unique_ptr<http::Client> c;
  std::call_once(once, [] {
    http::ClientOptions o;
    o.base_url = sales_test::gateway_url();
    o.timeout = std::chrono::milliseconds(15000);
    o.body_limit = 32 << 20;
    c = std::make_unique<http::Client>(o);
  });
  return *c;
}

const boost::json::value& null_value() {
  static const boost::json::value v;
  return v;
}
}  // namespace

std::string Res::header(std::string_view name) const {
  auto v = headers.get(name);
  return v ? std::string(*v) : std::string();
}

const boost::json::value& Res::at(std::string_view key) const {
  if (!json.is_object()) return null_value();
  auto* v = json.as_object().if_contains(key);
  return v ? *v : null_value();
}

std::string Res::str(std::string_view key) const {
  const auto& v = at(key);
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

std::int64_t Res::id() const {
  const auto& v = at("id");
  return v.is_int64() ? v.as_int64() : 0;
}

std::ostream& operator<<(std::ostream& os, const Res& r) {
  os << "HTTP " << r.status;
  for (const auto& [k, v] : r.headers.fields()) os << "\n  " << k << ": " << v;
  std::string_view body = r.body;
  if (body.size() > 600) body = body.substr(0, 600);
  os << "\n  " << body << (r.body.size() > 600 ? "..." : "");
  return os;
}

void PrintTo(const Res& r, std::ostream* os) { *os << r; }

namespace {
Res send_via(http::Client& via, std::string method, std::string target, std::string body, std::string content_type,
             const Headers& extra) {
  http::Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  for (const auto& [k, v] : extra) req.headers.add(k, v);
  if (!content_type.empty()) req.headers.set("Content-Type", content_type);
  req.body = std::move(body);
  http::Response res = via.send(std::move(req));
  Res out;
  out.status = res.status;
  out.headers = std::move(res.headers);
  out.body = std::move(res.body);
  if (!out.body.empty()) {
    boost::system::error_code ec;
    auto v = boost::json::parse(out.body, ec);
    if (!ec) {
      out.json = std::move(v);
      out.is_json = true;
    }
  }
  return out;
}
}  // namespace

Res request(std::string method, std::string target, std::string body, std::string content_type, const Headers& extra) {
  return send_via(client(), std::move(method), std::move(target), std::move(body), std::move(content_type), extra);
}

Res service_request(const std::string& service, std::string method, std::string target, std::string body,
                    std::string content_type, const Headers& extra) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<http::Client>> clients;
  http::Client* via = nullptr;
  {
    std::lock_guard lock(mu);
    auto& c = clients[service];
    if (!c) {
      std::string var = "SALES_" + service + "_URL";
      for (auto& ch : var) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c = std::make_unique<http::Client>(http::ClientOptions{.base_url = sales_test::require_env(var.c_str()),
                                                              .timeout = std::chrono::milliseconds(15000)});
    }
    via = c.get();
  }
  return send_via(*via, std::move(method), std::move(target), std::move(body), std::move(content_type), extra);
}

Res get(std::string target, const Headers& extra) { return request("GET", std::move(target), {}, {}, extra); }

Res post_json(std::string target, std::string body, const Headers& extra) {
  return request("POST", std::move(target), std::move(body), "application/json", extra);
}
Res post_json(std::string target, const boost::json::value& body, const Headers& extra) {
  return post_json(std::move(target), boost::json::serialize(body), extra);
}
Res put_json(std::string target, std::string body, const Headers& extra) {
  return request("PUT", std::move(target), std::move(body), "application/json", extra);
}
Res put_json(std::string target, const boost::json::value& body, const Headers& extra) {
  return put_json(std::move(target), boost::json::serialize(body), extra);
}
Res del(std::string target, const Headers& extra) { return request("DELETE", std::move(target), {}, {}, extra); }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

::testing::AssertionResult is_problem(const Res& r, int status) { return sales_test::is_problem_response(r, status); }
::testing::AssertionResult has_field_error(const Res& r, std::string_view field, int status) {
  return sales_test::has_field_error_response(r, field, status);
}
::testing::AssertionResult is_resource(const Res& r, std::initializer_list<const char*> members) {
  if (!r.json.is_object()) return ::testing::AssertionFailure() << "not a JSON object\n" << r;
  for (const char* k : members) {
    if (!r.json.as_object().contains(k)) return ::testing::AssertionFailure() << "missing member " << k << "\n" << r;
  }
  const auto* id = r.json.as_object().if_contains("id");
  if (!id || !id->is_int64() || id->as_int64() < 1) return ::testing::AssertionFailure() << "no positive id\n" << r;
  return ::testing::AssertionSuccess();
}

bool is_hex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Res create_product(std::string_view name, std::string_view price_literal, const Headers& extra) {
  auto r = post_json("/products", name_body(name, price_literal), extra);
  EXPECT_EQ(r.status, 201) << "creating product " << name << "\n" << r;
  return r;
}

Res create_customer(const boost::json::object& body) {
  auto r = post_json("/customers", boost::json::value(body));
  EXPECT_EQ(r.status, 201) << "creating customer " << boost::json::serialize(body) << "\n" << r;
  return r;
}

std::int64_t product_total(std::string_view q) {
  auto r = get("/products?q=" + url_encode(q));
  EXPECT_EQ(r.status, 200) << r;
  const auto& t = r.at("total");
  return t.is_int64() ? t.as_int64() : -1;
}

std::int64_t customer_total(std::string_view email) {
  auto r = get("/customers?email=" + url_encode(email));
  EXPECT_EQ(r.status, 200) << r;
  const auto& t = r.at("total");
  return t.is_int64() ? t.as_int64() : -1;
}

std::set<std::string> allowed_methods(const Res& r) {
  std::set<std::string> out;
  sales::http::for_each_list_element(r.header("Allow"), [&out](std::string_view m) { out.emplace(m); });
  return out;
}

}  // namespace e2e

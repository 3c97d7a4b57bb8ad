#include "support/api.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <thread>

#include <openssl/evp.h>

#include "sales/http/client.hpp"
#include "sales_test/env.hpp"

namespace saga {

namespace http = sales::http;

namespace {

http::Client& client_for(const std::string& base_url) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<http::Client>> clients;
  std::lock_guard lock(mu);
  auto& c = clients[base_url];
  if (!c) {
    http::ClientOptions o;
    o.base_url = base_url;
    o.max_idle = 64;
    o.timeout = std::chrono::milliseconds(15000);
    o.body_limit = 64 << 20;
    c = std::make_unique<http::Client>(o);
  }
  return *c;
}

const boost::json::value& null_value() {
  static const boost::json::value v;
  return v;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Res send_to(const std::string& base_url, const std::string& method, const std::string& target,
            const std::string& body, const Headers& extra) {
  http::Request req;
  req.method = method;
  req.target = target;
  for (const auto& [k, v] : extra) req.headers.add(k, v);
  // A body is JSON unless the caller says otherwise; an empty Content-Type sends none.
  if (auto type = req.headers.get("Content-Type"); !type) {
    if (!body.empty()) req.headers.set("Content-Type", "application/json");
  } else if (type->empty()) {
    req.headers.erase("Content-Type");
  }
  req.body = body;
  Res out;
  try {
    http::Response res = client_for(base_url).send(std::move(req));
    out.status = res.status;
    out.headers = std::move(res.headers);
    out.body = std::move(res.body);
  } catch (const std::exception& e) {
    out.status = 0;
    out.error = e.what();
    return out;
  }
  if (!out.body.empty()) {
    boost::system::error_code ec;
    auto v = boost::json::parse(out.body, ec);
    if (!ec) out.json = std::move(v);
  }
  return out;
}

}  // namespace

std::string Res::header(std::string_view name) const {
  auto v = headers.get(name);
  return v ? std::string(*v) : std::string();
}

const boost::json::value& Res::at(std::string_view key) const { return member(json, key); }
std::string Res::str(std::string_view key) const { return str_of(at(key)); }
std::int64_t Res::id() const { return int_of(at("id")); }

std::ostream& operator<<(std::ostream& os, const Res& r) {
  if (r.status == 0) return os << "no HTTP answer: " << r.error;
  os << "HTTP " << r.status;
  std::string_view body = r.body;
  if (body.size() > 3000) body = body.substr(0, 3000);
  return os << " " << body << (r.body.size() > 3000 ? "..." : "");
}
void PrintTo(const Res& r, std::ostream* os) { *os << r; }

Res request(const std::string& method, const std::string& target, const std::string& body, const Headers& extra) {
  return send_to(sales_test::gateway_url(), method, target, body, extra);
}
Res get(const std::string& target) { return request("GET", target); }
Res post(const std::string& target, const std::string& json_body, const Headers& extra) {
  return request("POST", target, json_body, extra);
}
Res put(const std::string& target, const std::string& json_body, const Headers& extra) {
  return request("PUT", target, json_body, extra);
}
std::string service_url(const std::string& service) {
  return sales_test::require_env(("SALES_" + upper(service) + "_URL").c_str());
}
Res service_request(const std::string& service, const std::string& method, const std::string& target,
                    const std::string& body) {
  return send_to(service_url(service), method, target, body, {});
}
Res service_get(const std::string& service, const std::string& target) { return service_request(service, "GET", target); }

Res request_at(const std::string& base_url, const std::string& method, const std::string& target,
               const std::string& body, const Headers& extra) {
  return send_to(base_url, method, target, body, extra);
}
Res get_at(const std::string& base_url, const std::string& target) { return request_at(base_url, "GET", target); }

namespace {
// RFC 4648 base64, for HTTP Basic credentials (OpenSSL's encoder; the platform links libcrypto).
std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock writes a NUL too
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}
}  // namespace

Res broker_management_get(const std::string& path) {
  const std::string credentials =
      sales_test::require_env("SALES_AMQP_USER") + ":" + sales_test::require_env("SALES_AMQP_PASSWORD");
  return send_to(sales_test::require_env("SALES_AMQP_MANAGEMENT_URL"), "GET", path, {},
                 {{"Authorization", "Basic " + base64(credentials)}});
}

std::int64_t int_of(const boost::json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64());
  return 0;
}
std::int64_t cents_of(const boost::json::value& v) {
  if (v.is_int64()) return v.as_int64() * 100;
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64()) * 100;
  if (v.is_double()) return static_cast<std::int64_t>(std::llround(v.as_double() * 100.0));
  return -1;
}
std::string str_of(const boost::json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }
const boost::json::value& member(const boost::json::value& v, std::string_view key) {
  if (!v.is_object()) return null_value();
  const auto* m = v.as_object().if_contains(key);
  return m ? *m : null_value();
}

std::string money(std::int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(cents / 100), static_cast<long long>(cents % 100));
  return buf;
}
std::string unique(std::string_view prefix) { return std::string(prefix) + "-" + sales_test::unique_suffix(); }
std::string new_key() { return "saga-" + sales_test::unique_suffix() + sales_test::unique_suffix(); }

// ---------------------------------------------------------------- fixtures

namespace {
// Fixtures ride out a short outage of a service they do not test (another test or an
// operator may be restarting it): a fresh attempt on no answer, 502, 503 or 504, for up to 20 s.
Res post_fixture(const std::string& target, const std::function<std::string()>& make_body) {
  auto deadline = Clock::now() + 20s;
  for (;;) {
    Res r = post(target, make_body());
    bool outage = r.status == 0 || r.status == 502 || r.status == 503 || r.status == 504;
    if (!outage || Clock::now() >= deadline) return r;
    std::this_thread::sleep_for(500ms);
  }
}
}  // namespace

std::int64_t create_product(std::int64_t price_cents, std::int64_t stock, bool wait_inventory) {
  std::string body;
  Res r = post_fixture("/products", [&] {
    body = R"({"name":")" + unique("saga product") + R"(","price":)" + money(price_cents) +
           R"(,"description":"saga test","stock":)" + std::to_string(stock) + "}";
    return body;
  });
  EXPECT_EQ(r.status, 201) << "POST /products " << body << " -> " << r;
  std::int64_t id = r.id();
  if (id > 0 && wait_inventory) {
    auto s = wait_stock(id, stock, 15s);
    EXPECT_EQ(s, std::optional<std::int64_t>(stock))
        << "the inventory did not take over product " << id << " (initial stock " << stock << ") within 15 s";
  }
  return id;
}

std::int64_t create_customer(const std::string& address) {
  Res r = post_fixture("/customers", [&] {
    boost::json::object o{{"name", "Saga Customer"},
                          {"address", address},
                          {"contact", "+1 555 0199"},
                          {"email", unique("saga") + "@example.com"}};
    return boost::json::serialize(o);
  });
  EXPECT_EQ(r.status, 201) << "POST /customers -> " << r;
  return r.id();
}

std::string order_body(std::int64_t customer_id, const std::vector<Line>& lines) {
  boost::json::array items;
  for (const auto& l : lines) items.push_back(boost::json::object{{"product_id", l.product_id}, {"quantity", l.quantity}});
  return boost::json::serialize(boost::json::object{{"customer_id", customer_id}, {"items", std::move(items)}});
}

Res place_order(std::int64_t customer_id, const std::vector<Line>& lines, const std::string& idempotency_key) {
  Headers h;
  if (!idempotency_key.empty()) h.emplace_back("Idempotency-Key", idempotency_key);
  return post("/orders", order_body(customer_id, lines), h);
}

Res place_single(std::int64_t customer_id, std::int64_t product_id, std::int64_t quantity) {
  boost::json::object o{{"customer_id", customer_id}, {"product_id", product_id}, {"quantity", quantity}};
  return post("/orders", boost::json::serialize(o));
}

}  // namespace saga

#pragma once
// Helpers for the end-to-end tests: every call goes to the gateway (SALES_GATEWAY_URL)
// over one keep-alive client (service_request() aside), and comes back as status + headers +
// raw body + parsed JSON.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/message.hpp"
#include "sales_test/rfc3339.hpp"

namespace e2e {

struct Res {
  int status = 0;
  sales::http::Headers headers;
  std::string body;          // the raw bytes, for exact comparisons (money, unicode)
  boost::json::value json;   // null when the body is empty or not JSON
  bool is_json = false;      // the body parsed as JSON

  [[nodiscard]] std::string header(std::string_view name) const;  // "" when absent
  [[nodiscard]] bool has_header(std::string_view name) const { return headers.get(name).has_value(); }
  // Members of a JSON object body; a failed lookup is a null value (tests then fail on it).
  [[nodiscard]] const boost::json::value& at(std::string_view key) const;
  [[nodiscard]] std::string str(std::string_view key) const;  // "" unless a string
  [[nodiscard]] std::int64_t id() const;                      // the "id" member, or 0
};

// Printed by gtest on failure.
std::ostream& operator<<(std::ostream& os, const Res& r);
void PrintTo(const Res& r, std::ostream* os);

using Headers = std::vector<std::pair<std::string, std::string>>;

// Any request; `content_type` is set when non-empty (and the body is sent as is).
Res request(std::string method, std::string target, std::string body = {}, std::string content_type = {},
            const Headers& extra = {});
Res get(std::string target, const Headers& extra = {});
Res post_json(std::string target, std::string body, const Headers& extra = {});
Res post_json(std::string target, const boost::json::value& body, const Headers& extra = {});
Res put_json(std::string target, std::string body, const Headers& extra = {});
Res put_json(std::string target, const boost::json::value& body, const Headers& extra = {});
Res del(std::string target, const Headers& extra = {});
// The same, straight to one service ("product": SALES_PRODUCT_URL), not through the gateway:
// for what only a direct caller controls, such as the X-Request-Budget-Ms the gateway sets.
Res service_request(const std::string& service, std::string method, std::string target, std::string body = {},
                    std::string content_type = {}, const Headers& extra = {});

// Percent-encodes a query component (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view s);

// The response is an RFC 9457 problem with this status: Content-Type
// application/problem+json; type, title (strings), status (== HTTP status), detail (string).
::testing::AssertionResult is_problem(const Res& r, int status);
// A problem (400 unless said) whose errors[] names `field` (each entry has field and message).
::testing::AssertionResult has_field_error(const Res& r, std::string_view field, int status = 400);
// A resource's representation: a JSON object with every one of `members` and a positive
// integer id (the shape checks of each resource start here).
::testing::AssertionResult is_resource(const Res& r, std::initializer_list<const char*> members);

using sales_test::is_rfc3339_utc;  // sales_test/rfc3339.hpp
using sales_test::rfc3339_micros;

bool is_hex32(std::string_view s);

// The methods the answer's Allow field lists, in any order.
std::set<std::string> allowed_methods(const Res& r);

// Convenience for fixtures: create and return the body (fails the test unless 201).
Res create_product(std::string_view name, std::string_view price_literal, const Headers& extra = {});
Res create_customer(const boost::json::object& body);
// The total of a filtered list: GET /products?q=... or /customers?email=...
std::int64_t product_total(std::string_view q);
std::int64_t customer_total(std::string_view email);

}  // namespace e2e

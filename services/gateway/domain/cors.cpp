#include "domain/cors.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "sales/problem/problem.hpp"

namespace gateway {

namespace http = sales::http;

namespace {
// What the API takes and answers. The request headers are those a script may set beyond
// the CORS-safelisted ones (Content-Type: application/json is not safelisted); the exposed
// ones are those the API sends beyond the safelisted Cache-Control, Content-Type and
// Content-Length.
constexpr std::string_view kAllowMethods = "GET, HEAD, POST, PUT, DELETE";
constexpr std::string_view kAllowHeaders = "Content-Type, Idempotency-Key, X-Request-Id, traceparent, tracestate, Cache-Control";
constexpr std::string_view kExposeHeaders =
    "Location, X-Request-Id, Retry-After, RateLimit, RateLimit-Policy, Idempotent-Replayed, Age, Cache-Status";
// How long a browser may reuse a preflight's answer (Chromium caps it at 7200 s).
constexpr std::string_view kMaxAgeSeconds = "600";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':';
}

// scheme://host[:port], as a browser serializes an origin.
void check_origin(std::string_view origin) {
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    throw std::invalid_argument("'" + std::string(origin) + "' is not an origin: it must start with http:// or https://");
  }
  if (rest.empty() || !std::all_of(rest.begin(), rest.end(), host_char)) {
    throw std::invalid_argument("'" + std::string(origin) +
                                "' is not an origin: after the scheme only a host and a port may follow (no path, no slash)");
  }
}

void add_vary_origin(http::Headers& out) {
  auto vary = out.get("Vary");
  if (!vary) {
    out.set_unchecked("Vary", "Origin");
  } else if (*vary != "*" && lower(*vary).find("origin") == std::string::npos) {
    out.set_unchecked("Vary", std::string(*vary) + ", Origin");  // parsed or ours: no control characters
  }
}
}  // namespace

CorsPolicy CorsPolicy::parse(std::string_view list) {
  CorsPolicy p;
  list = trim(list);
  if (list.empty()) return p;
  if (list == "*") {
    p.any_origin_ = true;
    return p;
  }
  while (!list.empty()) {
    auto comma = list.find(',');
    auto entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") throw std::invalid_argument("'*' allows every origin and must stand alone");
    check_origin(entry);
    p.origins_.push_back(lower(entry));
  }
  return p;
}

bool CorsPolicy::is_preflight(const http::Request& req) {
  return req.method == "OPTIONS" && req.headers.get("Origin") && req.headers.get("Access-Control-Request-Method");
}

std::string_view CorsPolicy::allowed_origin(const http::Request& req) const {
  auto origin = req.headers.get("Origin");
  if (!origin) return {};
  if (any_origin_) return "*";
  for (const auto& o : origins_) {
    if (http::iequals(*origin, o)) return o;
  }
  return {};
}

http::Response CorsPolicy::preflight(const http::Request& req) const {
  auto origin = allowed_origin(req);
  if (origin.empty()) {
    auto r = sales::to_response(sales::Problem::forbidden(
        "Cross-origin requests from " + std::string(req.headers.get("Origin").value_or("")) + " are not allowed."));
    if (!any_origin_) add_vary_origin(r.headers);
    return r;
  }
  auto r = http::Response::empty(204);
  r.headers.set_unchecked_copy("Access-Control-Allow-Origin", origin);  // "*" or a checked origin
  r.headers.set_unchecked_copy("Access-Control-Allow-Methods", kAllowMethods);
  r.headers.set_unchecked_copy("Access-Control-Allow-Headers", kAllowHeaders);
  r.headers.set_unchecked_copy("Access-Control-Max-Age", kMaxAgeSeconds);
  if (!any_origin_) add_vary_origin(r.headers);
  return r;
}

void CorsPolicy::decorate(const http::Request& req, http::Headers& out) const {
  if (!any_origin_) add_vary_origin(out);
  auto origin = allowed_origin(req);
  if (origin.empty()) return;
  out.set_unchecked_copy("Access-Control-Allow-Origin", origin);
  out.set_unchecked_copy("Access-Control-Expose-Headers", kExposeHeaders);
}

}  // namespace gateway

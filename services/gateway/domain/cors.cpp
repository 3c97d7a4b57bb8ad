#include "domain/cors.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "domain/ip_range.hpp"
#include "sales/http/header_lists.hpp"
#include "sales/problem/problem.hpp"

namespace gateway {

namespace http = sales::http;

namespace {
// What the API takes and answers. The request headers are those a script may set beyond
// the CORS-safelisted ones (Content-Type: application/json is not safelisted); the exposed
// ones are those the API sends beyond the safelisted Cache-Control, Content-Type and
// Content-Length.
constexpr std::string_view kAllowMethods = "GET, HEAD, POST, PUT, DELETE";
constexpr std::string_view kAllowHeaders =
    "Content-Type, Idempotency-Key, X-Request-Id, traceparent, tracestate, Cache-Control, Pragma";
constexpr std::string_view kExposeHeaders =
    "Location, Allow, X-Request-Id, Retry-After, RateLimit, RateLimit-Policy, Idempotent-Replayed, Age, Cache-Status";
// How long a browser may reuse a preflight's answer: a changed origin list reaches browsers
// within ten minutes.
constexpr std::string_view kMaxAgeSeconds = "600";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

[[noreturn]] void refuse(std::string_view origin, const std::string& why) {
  throw std::invalid_argument("'" + std::string(origin) + "' is not an origin as browsers send it: " + why);
}

// Dot-separated labels of letters, digits and hyphens.
bool host_name(std::string_view host) {
  if (host.empty()) return false;
  for (;;) {
    auto dot = host.find('.');
    auto label = host.substr(0, dot);
    if (label.empty() || !std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    host.remove_prefix(dot + 1);
  }
}

// scheme://host[:port], as a browser serializes an origin (the HTML standard's ASCII
// serialization): lower-case scheme and host, the IPv6 address compressed, no default port.
void check_origin(std::string_view origin) {
  std::string_view rest;
  std::string_view default_port;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
    default_port = "443";
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
    default_port = "80";
  } else {
    refuse(origin, "it must start with http:// or https://");
  }
  if (rest.find('/') != std::string_view::npos) refuse(origin, "no path and no trailing slash");
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) refuse(origin, "the IPv6 address has no closing ]");
    host = rest.substr(0, close + 1);
    auto after = rest.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) refuse(origin, "only a port may follow the host");
    if (!after.empty()) port = after.substr(1);
    auto address = parse_ip(host.substr(1, host.size() - 2));
    if (!address) refuse(origin, "the host is not an IPv6 address");
    IpText canonical(*address);
    if (lower(host.substr(1, host.size() - 2)) != canonical.view()) {
      refuse(origin, "browsers write this address [" + std::string(canonical.view()) + "]");
    }
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (!host_name(host)) refuse(origin, "the host must be a name (letters, digits, hyphens, dots) or [an IPv6 address]");
  }
  if (rest.size() > host.size()) {  // a ':' followed
    bool digits = !port.empty() && std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits || port.size() > 5 || port.front() == '0' || std::stoi(std::string(port)) > 65535) {
      refuse(origin, "the port must be a number from 1 to 65535 without leading zeros");
    }
    if (port == default_port) refuse(origin, "browsers leave out the default port :" + std::string(default_port));
  }
}

// Several Vary fields are one list (RFC 9110 §5.3): one naming Origin, or "*", is enough;
// otherwise a field of its own is added, leaving the others as they were.
void add_vary_origin(http::Headers& out) {
  bool covered = false;
  for (const auto& [name, value] : out.fields()) {
    if (!http::iequals(name, "Vary")) continue;
    http::for_each_list_element(value, [&](std::string_view token) {
      covered = covered || token == "*" || http::iequals(token, "Origin");
    });
  }
  if (!covered) out.add_unchecked("Vary", "Origin");
}

bool operator_endpoint(std::string_view path) {
  return path == "/metrics" || path == "/gateway" || path.starts_with("/gateway/");
}
}  // namespace

CorsPolicy CorsPolicy::parse(std::string_view list) {
  CorsPolicy p;
  list = http::trim_ows(list);
  if (list == "*") {
    p.any_origin_ = true;
    return p;
  }
  http::for_each_list_element(list, [&p](std::string_view entry) {
    if (entry == "*") throw std::invalid_argument("'*' allows every origin and must stand alone");
    check_origin(entry);
    p.origins_.push_back(lower(entry));
  });
  return p;
}

bool CorsPolicy::is_preflight(const http::Request& req) {
  return req.method == "OPTIONS" && req.headers.get("Origin") && req.headers.get("Access-Control-Request-Method");
}

std::string_view CorsPolicy::allowed_origin(const http::Request& req) const {
  if (any_origin_) return "*";
  auto origin = req.headers.get("Origin");
  if (!origin) return {};
  for (const auto& o : origins_) {
    if (http::iequals(*origin, o)) return o;
  }
  return {};
}

CorsPolicy::Preflight CorsPolicy::preflight(const http::Request& req) const {
  auto origin = allowed_origin(req);
  if (origin.empty()) {
    auto r = sales::to_response(sales::Problem::forbidden(
        "Cross-origin requests from " + std::string(req.headers.get("Origin").value_or("")) + " are not allowed."));
    add_vary_origin(r.headers);
    return {std::move(r), false};
  }
  auto r = http::Response::empty(204);
  r.headers.set_unchecked_copy("Access-Control-Allow-Origin", origin);  // "*" or a checked origin
  r.headers.set_unchecked_copy("Access-Control-Allow-Methods", kAllowMethods);
  r.headers.set_unchecked_copy("Access-Control-Allow-Headers", kAllowHeaders);
  r.headers.set_unchecked_copy("Access-Control-Max-Age", kMaxAgeSeconds);
  if (!any_origin_) add_vary_origin(r.headers);
  return {std::move(r), true};
}

void CorsPolicy::decorate(const http::Request& req, http::Response& out) const {
  if (operator_endpoint(req.path())) return;
  if (!any_origin_) add_vary_origin(out.headers);
  auto origin = allowed_origin(req);
  if (origin.empty()) return;
  out.headers.set_unchecked_copy("Access-Control-Allow-Origin", origin);
  out.headers.set_unchecked_copy("Access-Control-Expose-Headers", kExposeHeaders);
}

}  // namespace gateway

#include "domain/cors.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

#include "domain/admin_sources.hpp"
#include "domain/ip_range.hpp"
#include "sales/http/header_lists.hpp"
#include "sales/problem/problem.hpp"
#include "sales/text/ascii.hpp"

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

[[noreturn]] void refuse(std::string_view origin, const std::string& why) {
  throw std::invalid_argument("'" + std::string(origin) + "' is not an origin as browsers send it: " + why);
}

// Dot-separated labels of letters, digits, hyphens and underscores. One whose last label
// is a number is an IPv4 address, which browsers write as four decimal octets (127.1 and
// 2130706433 arrive as 127.0.0.1).
bool host_name(std::string_view host) {
  if (host.empty()) return false;
  std::string_view last;
  for (auto rest = host;;) {
    auto dot = rest.find('.');
    last = rest.substr(0, dot);
    if (last.empty() || !std::all_of(last.begin(), last.end(), [](char c) { return sales::text::is_alnum(c) || c == '-' || c == '_'; })) {
      return false;
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  bool numeric = sales::text::all_digits(last) || last.starts_with("0x");
  if (!numeric) return true;
  auto address = parse_ip(host);
  return address && address->is_v4();
}

// An IPv6 address as browsers serialize a URL's host (the URL standard): eight lower-case
// hex pieces without leading zeros, the first longest run of two or more zero pieces as
// "::", never a dotted IPv4 tail.
std::string whatwg_ipv6(const IpAddress& a) {
  std::array<unsigned, 8> piece{};
  for (std::size_t i = 0; i < 8; ++i) piece[i] = (a.bytes[2 * i] << 8) | a.bytes[2 * i + 1];
  std::size_t best_at = 8, best_len = 1;
  for (std::size_t i = 0; i < 8;) {
    std::size_t j = i;
    while (j < 8 && piece[j] == 0) ++j;
    if (j - i > best_len) best_at = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  std::string out;
  char hex[8];
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_at) {
      out += i == 0 ? "::" : ":";
      i += best_len - 1;
      continue;
    }
    std::snprintf(hex, sizeof hex, "%x", piece[i]);
    out += hex;
    if (i < 7) out += ':';
  }
  return out;
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
    auto inside = host.substr(1, host.size() - 2);
    auto address = inside.find(':') == std::string_view::npos ? std::nullopt : parse_ip(inside);
    if (!address) refuse(origin, "the host is not an IPv6 address");
    auto canonical = whatwg_ipv6(*address);
    if (inside != canonical) refuse(origin, "browsers write this address [" + canonical + "]");
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (!host_name(host)) {
      refuse(origin, "the host must be a name (letters, digits, hyphens, dots), four decimal octets, or [an IPv6 address]");
    }
  }
  if (rest.size() > host.size()) {  // a ':' followed
    if (!sales::text::all_digits(port) || port.size() > 5 || port.front() == '0' || std::stoi(std::string(port)) > 65535) {
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

}  // namespace

bool CorsPolicy::applies_to(std::string_view path) { return !is_admin_path(path); }

CorsPolicy CorsPolicy::parse(std::string_view list) {
  CorsPolicy p;
  list = http::trim_ows(list);
  if (list == "*") {
    p.any_origin_ = true;
    return p;
  }
  http::for_each_list_element(list, [&p](std::string_view entry) {
    if (entry == "*") throw std::invalid_argument("'*' allows every origin and must stand alone");
    auto origin = sales::text::to_lower(entry);  // browsers write scheme and host in lower case
    check_origin(origin);
    p.origins_.push_back(std::move(origin));
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
        "Cross-origin requests from " + http::printable(req.headers.get("Origin").value_or("")) + " are not allowed."));
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
  if (!applies_to(req.path())) return;
  if (!any_origin_) add_vary_origin(out.headers);
  auto origin = allowed_origin(req);
  if (origin.empty()) return;
  out.headers.set_unchecked_copy("Access-Control-Allow-Origin", origin);
  out.headers.set_unchecked_copy("Access-Control-Expose-Headers", kExposeHeaders);
}

}  // namespace gateway

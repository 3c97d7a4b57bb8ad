#pragma once
// Cross-origin calls from browsers (the Fetch standard's CORS protocol), answered at the
// gateway so that a storefront or back office served from another origin can call the API.
// Off unless GATEWAY_CORS_ALLOWED_ORIGINS lists origins or is "*"; off, the gateway adds
// nothing and a browser keeps other origins out. No credentials are ever allowed: the API
// takes no cookies and no HTTP authentication, so "*" gives nothing away.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by the
// gateway itself and reaches no service: 204 naming the methods and request headers the API
// takes, or a 403 problem for an origin not listed. Every other answer (the services', the
// gateway's own, its 429s and 503s) carries Access-Control-Allow-Origin for a listed
// Origin, with the response headers a script may read; with a list, Vary: Origin tells
// caches the answer depends on it.
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/message.hpp"

namespace gateway {

class CorsPolicy {
 public:
  // "" → off; "*" → every origin; else comma-separated origins, each scheme://host[:port]
  // with scheme http or https and nothing after (no path, no trailing slash), compared
  // without regard to case. Throws std::invalid_argument naming the entry it refuses.
  static CorsPolicy parse(std::string_view list);

  [[nodiscard]] bool enabled() const { return any_origin_ || !origins_.empty(); }
  [[nodiscard]] static bool is_preflight(const sales::http::Request& req);
  // The answer to a preflight (is_preflight): 204 or a 403 problem.
  [[nodiscard]] sales::http::Response preflight(const sales::http::Request& req) const;
  // Adds the CORS fields to `out`, the answer to `req` (not a preflight).
  void decorate(const sales::http::Request& req, sales::http::Headers& out) const;

 private:
  // The Access-Control-Allow-Origin for this request's Origin; "" when it is not allowed.
  [[nodiscard]] std::string_view allowed_origin(const sales::http::Request& req) const;

  bool any_origin_ = false;
  std::vector<std::string> origins_;  // lower case
};

}  // namespace gateway

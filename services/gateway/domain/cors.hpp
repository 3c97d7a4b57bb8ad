#pragma once
// Cross-origin calls from browsers (the Fetch standard's CORS protocol), answered at the
// gateway so that a storefront or back office served from another origin can call the API.
// Off unless GATEWAY_CORS_ALLOWED_ORIGINS lists origins or is "*"; off, the gateway adds
// nothing and a browser keeps other origins' scripts out. No credentials are ever allowed:
// the API takes no cookies and no HTTP authentication. "*" is for a gateway the whole
// internet reaches anyway: on a private network it lets any page a user opens use the API.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by the
// gateway itself and reaches no service: 204 naming the methods and request headers the API
// takes, or a 403 problem for an origin not listed. Every other answer a script may need to
// read carries the fields (decorate): the services' answers and the gateway's refusals,
// the server's own 413 included; a 431, or a 400 for what is not HTTP, gets them only with
// "*" (with a list, its Origin is not known). The operator endpoints (/metrics,
// /gateway/...) are not for scripts: no fields, and a preflight for one is not answered
// here (it gets the router's 204 with Allow). With a list, every answer says Vary: Origin;
// with "*" every answer is alike.
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/message.hpp"

namespace gateway {

class CorsPolicy {
 public:
  // "" → off; "*" → every origin; else comma-separated origins as browsers write them:
  // scheme://host[:port], scheme http or https, host a name or a [canonical IPv6] address,
  // no default port, nothing after (no path, no slash); compared without regard to case.
  // Throws std::invalid_argument naming the entry it refuses and why.
  static CorsPolicy parse(std::string_view list);

  [[nodiscard]] bool enabled() const { return any_origin_ || !origins_.empty(); }
  [[nodiscard]] static bool is_preflight(const sales::http::Request& req);
  // Whether CORS covers this path: everything but the operator endpoints.
  [[nodiscard]] static bool applies_to(std::string_view path);

  struct Preflight {
    sales::http::Response answer;  // 204, or a 403 problem
    bool allowed;
  };
  [[nodiscard]] Preflight preflight(const sales::http::Request& req) const;
  // Adds the CORS fields to `out`, the answer to `req` (not a preflight).
  void decorate(const sales::http::Request& req, sales::http::Response& out) const;

 private:
  // The Access-Control-Allow-Origin for this request's Origin; "" when it is not allowed.
  [[nodiscard]] std::string_view allowed_origin(const sales::http::Request& req) const;

  bool any_origin_ = false;
  std::vector<std::string> origins_;  // lower case
};

}  // namespace gateway

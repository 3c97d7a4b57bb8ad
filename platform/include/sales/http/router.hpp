#pragma once
// Routes by method and path pattern ("/products/{id}"). A path that matches no pattern is
// 404; a known path with another method is 405 with Allow. A non-JSON body on a route
// that takes JSON is 415. A route that takes no body (Body::None) answers a PUT, POST,
// PATCH or DELETE carrying one with 415 (not JSON) or 400 (JSON but not {}), and its
// handler does not run.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/list_query.hpp"  // what list handlers use beside the router
#include "sales/http/message.hpp"
#include "sales/problem/problem.hpp"

namespace sales::http {

class PathParams {
 public:
  void push(std::string_view name, std::string_view value) { items_.emplace_back(name, value); }
  [[nodiscard]] std::string_view get(std::string_view name) const;
  // A positive integer id; 404 problem otherwise (a non-numeric id names nothing).
  [[nodiscard]] std::int64_t id(std::string_view name) const;

 private:
  std::vector<std::pair<std::string_view, std::string_view>> items_;
};

using RouteHandler = std::function<Response(Request&, const PathParams&)>;

enum class Body { None, Json };

class Router {
 public:
  // What body the route takes is always said: Body::None refuses one on a write (above).
  Router& add(std::string method, std::string pattern, RouteHandler h, Body body);
  Router& get(std::string p, RouteHandler h) { return add("GET", std::move(p), std::move(h), Body::None); }
  Router& post(std::string p, RouteHandler h, Body b = Body::Json) { return add("POST", std::move(p), std::move(h), b); }
  Router& put(std::string p, RouteHandler h, Body b = Body::Json) { return add("PUT", std::move(p), std::move(h), b); }
  Router& del(std::string p, RouteHandler h) { return add("DELETE", std::move(p), std::move(h), Body::None); }

  // Sets req.route to the matched pattern (a bounded metrics label).
  Response dispatch(Request& req) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RouteHandler handler;
    Body body;
  };
  std::vector<Route> routes_;
};

// The answer to a method no route of the resource takes, with Allow naming `allow` and
// OPTIONS (RFC 9110 §9.3.7, §15.5.6): OPTIONS gets 204 (req.route = "options"); any other
// method a 405 problem+json (req.route = "method_not_allowed"). What dispatch answers, for
// callers that route a path themselves (the gateway's /health).
Response answer_other_method(Request& req, std::string allow);

// What dispatch does for a path no route knows: req.route = "not_found" and a 404 problem
// thrown. For callers that must answer a path exactly as if it did not exist (the gateway's
// operator endpoints, to a peer not allowed them).
[[noreturn]] void refuse_unknown_path(Request& req);

bool is_json_content_type(std::string_view ct);

}  // namespace sales::http

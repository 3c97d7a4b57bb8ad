#pragma once
// Routes by method and path pattern ("/products/{id}"). A path that matches no pattern is
// 404; a known path with another method is 405 with Allow. A non-JSON body on a route
// that takes JSON is 415.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

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
  Router& add(std::string method, std::string pattern, RouteHandler h, Body body = Body::None);
  Router& get(std::string p, RouteHandler h) { return add("GET", std::move(p), std::move(h)); }
  Router& post(std::string p, RouteHandler h, Body b = Body::Json) { return add("POST", std::move(p), std::move(h), b); }
  Router& put(std::string p, RouteHandler h, Body b = Body::Json) { return add("PUT", std::move(p), std::move(h), b); }
  Router& del(std::string p, RouteHandler h) { return add("DELETE", std::move(p), std::move(h)); }

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

bool is_json_content_type(std::string_view ct);

// A text filter: nullopt when absent; 400 naming the parameter when longer than max_chars.
std::optional<std::string> text_param(const Request& req, std::string_view name, std::size_t max_chars);

// An id filter (?order_id=7): nullopt when absent; when it is not a positive integer, also
// nullopt and "must be a positive integer" in `errors`, so a handler reports every bad
// filter at once. A parameter given twice, or not UTF-8, is refused at once, alone
// (Request::query_param).
std::optional<std::int64_t> id_param(const Request& req, std::string_view name, std::vector<FieldError>& errors);

// A list of ids (?ids=3,5,8): nullopt when absent; sorted, each once. When it is empty, not
// positive integers separated by commas, or more than `max_count` distinct ones, also nullopt
// and the reason in `errors`.
std::optional<std::vector<std::int64_t>> id_list_param(const Request& req, std::string_view name,
                                                       std::size_t max_count, std::vector<FieldError>& errors);

// Pagination per the contract: limit 1..500 (default 50), offset >= 0; 400 otherwise.
struct Page {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
  // The client sent Cache-Control: no-cache (or, without Cache-Control, Pragma: no-cache;
  // parse_request_cache_control): the list's total is counted now, not taken from a recent
  // count (sales/pg/total_cache.hpp).
  bool fresh_total = false;
};
// `filters`: the list's other parameters. Any parameter but limit, offset and those is a 400
// naming it, with kNotAListParameter as its message: a misspelt filter (?custmer_id=7) must
// not quietly answer with every row. (A client can tell from that message that a service
// does not take a filter yet, as the order service does of the product service's ?ids=.)
inline constexpr std::string_view kNotAListParameter = "is not a parameter of this list";
Page page_from(const Request& req, std::initializer_list<std::string_view> filters = {});

}  // namespace sales::http

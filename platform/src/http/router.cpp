#include "sales/http/router.hpp"

#include <algorithm>

#include "sales/http/header_lists.hpp"
#include "sales/problem/problem.hpp"

namespace sales::http {

namespace {
void add_allowed(std::string& allow, const std::string& method) {
  if (allow.find(method) == std::string::npos) allow += allow.empty() ? method : ", " + method;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_safe_method(const Request& req) { return req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS"; }

// Whether the request says its body is JSON (Content-Type application/json or +json).
bool says_json(const Request& req) {
  auto ct = req.headers.get("Content-Type");
  return ct && is_json_content_type(*ct);
}

// A body's framing is the client's to state once: two Content-Type fields (one JSON, one
// not) left the first to decide, so the same bytes passed or were refused by field order.
void refuse_second_content_type(const Request& req) {
  if (req.headers.count("Content-Type") > 1) {
    throw ProblemError(Problem::bad_request("The Content-Type header was sent more than once; send one.",
                                            {{"Content-Type", "must be given once"}}));
  }
}

// No service decodes a compressed body (RFC 9110 §8.4): a gzip body used to be read as
// broken JSON (400), and a plain one labelled gzip was taken as if unlabelled. Either way
// the client is told what it may send instead (RFC 9110 §15.5.16, Accept-Encoding).
void refuse_content_coding(const Request& req) {
  std::optional<std::string_view> coded;  // the first coding other than identity, in any field
  for (const auto& [name, value] : req.headers.fields()) {
    if (coded || !iequals(name, "Content-Encoding")) continue;
    for_each_list_element(value, [&](std::string_view coding) {
      if (!coded && !iequals(coding, "identity")) coded = coding;
    });
  }
  if (!coded) return;
  auto p = Problem::unsupported_media_type("The request body must not be compressed: Content-Encoding '" +
                                           printable(*coded, 64) + "' is not accepted.");
  p.headers.set("Accept-Encoding", "identity");
  throw ProblemError(std::move(p));
}

bool is_empty_json_object(std::string_view body) {
  std::string_view expected = "{}";
  for (char c : body) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;  // JSON's whitespace
    if (expected.empty() || c != expected.front()) return false;
    expected.remove_prefix(1);
  }
  return expected.empty();
}

// A body sent to a route that takes none, by a method that changes something (a payment's
// confirm, a delete), is a client's mistake: a payload meant for another call, a broken
// script. The change must not go ahead as if the request were fine (DESIGN: bad input
// changes nothing), so only no body or an empty JSON object, which clients that always send
// JSON send, passes. A safe method's body (GET, HEAD, OPTIONS) has no meaning and is ignored.
void refuse_unexpected_body(const Request& req) {
  if (req.body.empty() || is_safe_method(req)) return;
  if (!says_json(req)) {
    throw ProblemError(Problem::unsupported_media_type("This request takes no body; send none, or {} as JSON (Content-Type: application/json)."));
  }
  if (!is_empty_json_object(req.body)) {
    throw ProblemError(Problem::bad_request("This request takes no body; send none, or an empty JSON object {}."));
  }
}

}  // namespace

std::string_view PathParams::get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return v;
  }
  throw std::logic_error("route has no parameter " + std::string(name));  // a programming error
}

std::int64_t PathParams::id(std::string_view name) const {
  auto v = parse_positive(get(name));
  if (!v) throw ProblemError(Problem::not_found("No resource has the id '" + printable(get(name)) + "'."));
  return *v;
}

Router& Router::add(std::string method, std::string pattern, RouteHandler h, Body body) {
  Route r{std::move(method), std::move(pattern), {}, std::move(h), body};
  for (auto seg : split_path(r.pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
  return *this;
}

namespace {
// JSON is UTF-8 (RFC 8259 §8.1): a body declared in another charset would be read as UTF-8
// all the same, so it is refused as the media type it claims to be. No charset is UTF-8.
bool charset_is_utf8(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    auto param = trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    auto eq = param.find('=');
    if (eq == std::string_view::npos || !iequals(trim_ows(param.substr(0, eq)), "charset")) continue;
    auto value = trim_ows(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return iequals(value, "utf-8") || iequals(value, "utf8");
  }
  return true;
}
}  // namespace

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view mime = trim_ows(ct.substr(0, semi));
  if (semi != std::string_view::npos && !charset_is_utf8(ct.substr(semi + 1))) return false;
  if (iequals(mime, "application/json")) return true;
  return mime.size() > 5 && iequals(mime.substr(mime.size() - 5), "+json") && iequals(mime.substr(0, 12), "application/");
}

Response Router::dispatch(Request& req) const {
  auto segments = split_path(req.path());
  std::string allow;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    PathParams params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const auto& pat = r.segments[i];
      if (pat.size() > 2 && pat.front() == '{' && pat.back() == '}') {
        params.push(std::string_view(pat).substr(1, pat.size() - 2), segments[i]);
      } else {
        match = pat == segments[i];
      }
    }
    if (!match) continue;
    bool head_as_get = req.method == "HEAD" && r.method == "GET";
    if (r.method != req.method && !head_as_get) {
      add_allowed(allow, r.method);
      if (r.method == "GET") add_allowed(allow, "HEAD");  // a GET route answers HEAD (RFC 9110 §9.3.2)
      continue;
    }
    req.route = r.pattern;
    if (!req.body.empty() && !is_safe_method(req)) {  // a safe method's body is ignored (below)
      refuse_second_content_type(req);
      refuse_content_coding(req);
    }
    if (r.body == Body::Json) {
      if (!req.body.empty() && !says_json(req)) {
        throw ProblemError(Problem::unsupported_media_type("The request body must be JSON, in UTF-8 (Content-Type: application/json)."));
      }
    } else {
      refuse_unexpected_body(req);
    }
    // HEAD as GET: the body stays, for its length; the server sends the head alone.
    return r.handler(req, params);
  }
  if (!allow.empty()) return answer_other_method(req, allow);
  refuse_unknown_path(req);
}

void refuse_unknown_path(Request& req) {
  req.route = "not_found";
  throw ProblemError(Problem::not_found("No resource at " + printable(req.path()) + "."));
}

Response answer_other_method(Request& req, std::string allow) {
  add_allowed(allow, "OPTIONS");
  if (req.method == "OPTIONS") {
    req.route = "options";
    Response res = Response::empty(204);
    res.headers.set("Allow", allow);
    return res;
  }
  req.route = "method_not_allowed";
  Response res = to_response(Problem::method_not_allowed("This resource does not support " + req.method + "; it supports " + allow + "."));
  res.headers.set("Allow", allow);
  return res;
}

}  // namespace sales::http

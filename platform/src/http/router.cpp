#include "sales/http/router.hpp"

#include <algorithm>
#include <charconv>

#include "sales/http/cache_control.hpp"
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

std::optional<std::int64_t> parse_positive(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
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

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view mime = ct.substr(0, semi);
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
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
    if (r.body == Body::Json) {
      auto ct = req.headers.get("Content-Type");
      if (!req.body.empty() && (!ct || !is_json_content_type(*ct))) {
        throw ProblemError(Problem::unsupported_media_type("The request body must be JSON (Content-Type: application/json)."));
      }
    }
    // HEAD as GET: the body stays, for its length; the server sends the head alone.
    return r.handler(req, params);
  }
  if (!allow.empty()) return answer_other_method(req, allow);
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

std::optional<std::string> text_param(const Request& req, std::string_view name, std::size_t max_chars) {
  auto v = req.query_param(name);
  if (v && utf8_length(*v) > max_chars) {
    std::string field(name);
    throw ProblemError(Problem::bad_request("Invalid filter.", {{field, "must be at most " + std::to_string(max_chars) + " characters"}}));
  }
  return v;
}

std::optional<std::int64_t> id_param(const Request& req, std::string_view name, std::vector<FieldError>& errors) {
  auto v = req.query_param(name);
  if (!v) return std::nullopt;
  auto id = parse_positive(*v);
  if (!id) errors.push_back({std::string(name), "must be a positive integer"});
  return id;
}

std::optional<std::vector<std::int64_t>> id_list_param(const Request& req, std::string_view name,
                                                       std::size_t max_count, std::vector<FieldError>& errors) {
  auto v = req.query_param(name);
  if (!v) return std::nullopt;
  std::vector<std::int64_t> ids;
  bool ok = true;
  for (std::string_view rest = *v; ok;) {
    const auto comma = rest.find(',');
    auto id = parse_positive(rest.substr(0, comma));
    ok = id.has_value();
    if (ok) ids.push_back(*id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (!ok || ids.size() > max_count) {
    errors.push_back({std::string(name), "must be 1 to " + std::to_string(max_count) +
                                             " positive integers separated by commas"});
    return std::nullopt;
  }
  return ids;
}

namespace {
void refuse_unknown_params(const Request& req, std::initializer_list<std::string_view> filters) {
  constexpr std::string_view kPaging[] = {"limit", "offset"};
  auto known = [&](const std::string& key) {
    return std::find(std::begin(kPaging), std::end(kPaging), key) != std::end(kPaging) ||
           std::find(filters.begin(), filters.end(), key) != filters.end();
  };
  constexpr std::size_t kMaxNamed = 10;  // a query of thousands of names gets a short answer
  std::vector<FieldError> unknown;
  for (const auto& key : req.query_keys()) {
    if (known(key)) continue;
    auto name = printable(key, 64);
    if (std::any_of(unknown.begin(), unknown.end(), [&](const FieldError& e) { return e.field == name; })) continue;
    unknown.push_back({std::move(name), std::string(kNotAListParameter)});
    if (unknown.size() == kMaxNamed) break;
  }
  if (unknown.empty()) return;
  std::string detail = "This list takes only these query parameters: limit, offset";
  for (auto f : filters) detail.append(", ").append(f);
  detail += "; '" + unknown.front().field + "' is not one.";  // before `unknown` is moved
  throw ProblemError(Problem::bad_request(std::move(detail), std::move(unknown)));
}
}  // namespace

Page page_from(const Request& req, std::initializer_list<std::string_view> filters) {
  refuse_unknown_params(req, filters);
  Page p;
  std::vector<FieldError> errors;
  auto read = [&](const char* name, std::int64_t min, std::int64_t max, std::int64_t& out) {
    auto v = req.query_param(name);
    if (!v) return;
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc{} || ptr != v->data() + v->size() || n < min || n > max) {
      errors.push_back({name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max)});
      return;
    }
    out = n;
  };
  read("limit", 1, 500, p.limit);
  read("offset", 0, 1'000'000'000, p.offset);
  if (!errors.empty()) throw ProblemError(Problem::bad_request("Invalid pagination parameters.", errors));
  p.fresh_total = parse_request_cache_control(req.headers).no_cache;
  return p;
}

}  // namespace sales::http

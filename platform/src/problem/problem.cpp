#include "sales/problem/problem.hpp"

#include <algorithm>

#include "sales/json/writer.hpp"

namespace sales {

namespace {
// A problem always has a title: the reason phrase, or "Error" for a status without one.
std::string_view title_of(int status) {
  std::string_view r = reason_phrase(status);
  return r.empty() ? "Error" : r;
}

Problem make(int status, std::string detail, std::vector<FieldError> errors = {}) {
  Problem p;
  p.status = status;
  p.title = title_of(status);
  p.detail = std::move(detail);
  p.errors = std::move(errors);
  return p;
}

// Stable, documented problem types: clients may switch on them.
std::string default_type(int status) {
  switch (status) {
    case 400: return "urn:sales:problem:invalid-request";
    case 403: return "urn:sales:problem:forbidden";
    case 404: return "urn:sales:problem:not-found";
    case 405: return "urn:sales:problem:method-not-allowed";
    case 409: return "urn:sales:problem:conflict";
    case 413: return "urn:sales:problem:payload-too-large";
    case 415: return "urn:sales:problem:unsupported-media-type";
    case 422: return "urn:sales:problem:unprocessable";
    case 429: return "urn:sales:problem:rate-limited";
    case 431: return "urn:sales:problem:headers-too-large";
    case 502: return "urn:sales:problem:bad-gateway";
    case 503: return "urn:sales:problem:unavailable";
    case 504: return "urn:sales:problem:timeout";
    default: return "about:blank";
  }
}
}  // namespace

Problem Problem::bad_request(std::string d, std::vector<FieldError> e) { return make(400, std::move(d), std::move(e)); }
Problem Problem::forbidden(std::string d) { return make(403, std::move(d)); }
Problem Problem::not_found(std::string d) { return make(404, std::move(d)); }
Problem Problem::not_found(std::string_view what, std::int64_t id) {
  return not_found(std::string(what) + " " + std::to_string(id) + " does not exist.");
}
Problem Problem::conflict(std::string d, std::vector<FieldError> e) { return make(409, std::move(d), std::move(e)); }
Problem Problem::unprocessable(std::string d, std::vector<FieldError> e) { return make(422, std::move(d), std::move(e)); }
Problem Problem::payload_too_large(std::string d) { return make(413, std::move(d)); }
Problem Problem::unsupported_media_type(std::string d) { return make(415, std::move(d)); }
Problem Problem::headers_too_large(std::string d) { return make(431, std::move(d)); }
Problem Problem::not_implemented(std::string d) { return make(501, std::move(d)); }
Problem Problem::method_not_allowed(std::string d) { return make(405, std::move(d)); }
Problem Problem::too_many_requests(std::string d) { return make(429, std::move(d)); }
Problem Problem::bad_gateway(std::string d) { return make(502, std::move(d)); }
Problem Problem::unavailable(std::string d) { return make(503, std::move(d)); }
Problem Problem::gateway_timeout(std::string d) { return make(504, std::move(d)); }
Problem Problem::dependency_unavailable(std::string dependency, std::string d) {
  auto p = make(503, std::move(d));
  p.headers.set(std::string(kDependencyUnavailableHeader), std::move(dependency));
  return p;
}
Problem Problem::internal() { return make(500, "The server could not complete the request; it has been logged."); }

std::string join_in_detail(std::size_t count, const std::function<std::string(std::size_t)>& item) {
  constexpr std::size_t kNamed = 10;
  std::string out;
  for (std::size_t i = 0; i < std::min(count, kNamed); ++i) out.append(i ? "; " : "").append(item(i));
  if (count > kNamed) out += "; and " + std::to_string(count - kNamed) + " more";
  return out;
}

http::Response to_response(const Problem& p, std::string_view instance) {
  json::Writer w;
  w.begin_object();
  w.field("type", p.type.empty() ? default_type(p.status) : p.type);
  w.field("title", p.title.empty() ? std::string(title_of(p.status)) : p.title);
  w.field("status", p.status);
  if (!p.detail.empty()) w.field("detail", p.detail);
  if (!instance.empty()) w.field("instance", instance);
  if (!p.errors.empty()) {
    w.key("errors").begin_array();
    for (const auto& e : p.errors) {
      w.begin_object().field("field", e.field).field("message", e.message).end_object();
    }
    w.end_array();
  }
  w.end_object();
  http::Response r;
  r.status = p.status;
  r.headers = p.headers;
  r.headers.set("Content-Type", "application/problem+json");
  r.body = w.take();
  return r;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

}  // namespace sales

#pragma once
// RFC 9457 Problem Details: the one way any service reports an error. Handlers throw
// ProblemError (or return problem()); the server renders it with application/problem+json.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/message.hpp"

namespace sales {

struct FieldError {
  std::string field;
  std::string message;
};

struct Problem {
  int status = 500;
  std::string title;
  std::string detail;
  std::vector<FieldError> errors;
  std::string type;  // defaults to a URN derived from status when empty
  // Fields sent with the answer: a 415's Accept-Encoding, dependency_unavailable's name of
  // the peer that is out.
  http::Headers headers;

  static Problem bad_request(std::string detail, std::vector<FieldError> errors = {});
  static Problem forbidden(std::string detail);
  static Problem not_found(std::string detail);
  // A resource a request names by id: not_found("Product", 7) says "Product 7 does not exist."
  static Problem not_found(std::string_view what, std::int64_t id);
  static Problem conflict(std::string detail, std::vector<FieldError> errors = {});  // errors: the field at odds, if one is
  static Problem unprocessable(std::string detail, std::vector<FieldError> errors = {});
  static Problem payload_too_large(std::string detail);
  static Problem unsupported_media_type(std::string detail);
  static Problem headers_too_large(std::string detail);  // 431
  static Problem not_implemented(std::string detail);    // 501: a transfer coding the server does not undo
  static Problem method_not_allowed(std::string detail);
  static Problem too_many_requests(std::string detail);
  static Problem bad_gateway(std::string detail);
  static Problem unavailable(std::string detail);
  // A 503 because a service this one calls is down or failing, not this service: the
  // gateway's breaker for this service does not count it (one failing service never opens
  // another's), and the answer names the peer in kDependencyUnavailableHeader.
  static Problem dependency_unavailable(std::string dependency, std::string detail);
  static Problem gateway_timeout(std::string detail);
  static Problem internal();  // never says why: details go to the log only
};

inline constexpr std::string_view kDependencyUnavailableHeader = "Sales-Dependency-Unavailable";

class ProblemError : public std::runtime_error {
 public:
  explicit ProblemError(Problem p) : std::runtime_error(p.detail), problem_(std::move(p)) {}
  [[nodiscard]] const Problem& problem() const { return problem_; }

 private:
  Problem problem_;
};

// `count` items of a detail joined with "; ", the first ten named (`item(i)`), then "; and N
// more": a body of a hundred wrong lines gets a detail of a few lines, with the count whole
// (the problem's errors list them).
std::string join_in_detail(std::size_t count, const std::function<std::string(std::size_t)>& item);

// Renders the problem as a response; X-Request-Id is added by the server.
http::Response to_response(const Problem& p, std::string_view instance = {});
// RFC 9110's reason phrase for the status line and problem titles; "" when it has none.
const char* reason_phrase(int status);

}  // namespace sales

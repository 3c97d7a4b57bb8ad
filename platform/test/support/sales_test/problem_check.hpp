#pragma once
// What an error answer must be (DESIGN §2), for the e2e and saga suites alike: an RFC 9457
// problem document whose status matches, with the request's id, quoting no internals.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string_view>

#include "sales/http/message.hpp"

namespace sales_test {

// An answer as both suites' clients hold it.
struct Answer {
  int status = 0;
  const sales::http::Headers& headers;
  std::string_view body;
  const boost::json::value& json;  // null unless the body is JSON
};

// HTTP `status`; Content-Type application/problem+json; type, title and detail non-empty
// strings; status == `status`; an X-Request-Id header; no SQL state, stack or exception text.
::testing::AssertionResult problem_document(const Answer& a, int status);

// A problem_document (400 unless said) whose errors[] entries each have a field and a
// message, one of them naming `field`.
::testing::AssertionResult names_field_error(const Answer& a, std::string_view field, int status = 400);

// The two checks on a suite's own response type (status, headers, body and json members,
// printable with <<), the response appended to a failure.
template <class Response>
::testing::AssertionResult is_problem_response(const Response& r, int status) {
  auto result = problem_document({r.status, r.headers, r.body, r.json}, status);
  return result ? result : result << "\n" << r;
}
template <class Response>
::testing::AssertionResult has_field_error_response(const Response& r, std::string_view field, int status = 400) {
  auto result = names_field_error({r.status, r.headers, r.body, r.json}, field, status);
  return result ? result : result << "\n" << r;
}

}  // namespace sales_test

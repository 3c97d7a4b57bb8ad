#pragma once
// For tests of handlers and decoders without a server: requests as the server hands them
// over, a router's answer (to a repeat too), and the problem a call throws.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "sales/http/message.hpp"
#include "sales/http/router.hpp"
#include "sales/problem/problem.hpp"

namespace sales_test {

// A `method` of `target` with a JSON `body` (none when empty).
inline sales::http::Request request(std::string method, std::string target, std::string body = {}) {
  sales::http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  if (!body.empty()) r.headers.set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

// A GET of `target` (path and query).
inline sales::http::Request get(std::string target) { return request("GET", std::move(target)); }

// What a list's `decode_filter(ListQuery&)` reads from a GET of `target`, once the list's
// page() passed its verdict (a 400 is thrown as the handler would throw it).
template <class Decode>
auto list_filter(std::string target, Decode decode) {
  auto req = get(std::move(target));
  sales::http::ListQuery query(req);
  auto filter = decode(query);
  (void)query.page();
  return filter;
}

// What `router` answers to `req`, a refusal as its problem response (as the server sends it).
inline sales::http::Response answer(const sales::http::Router& router, sales::http::Request req) {
  try {
    return router.dispatch(req);
  } catch (const sales::ProblemError& e) {
    return sales::to_response(e.problem());
  }
}

// Sends `req` to `router` twice, as a retry after a lost answer does: both answers must be
// 200 with one body (the resource as the first left it). `first`, when given, gets the first.
inline ::testing::AssertionResult answers_twice_alike(const sales::http::Router& router,
                                                      const sales::http::Request& req,
                                                      sales::http::Response* first = nullptr) {
  auto once = answer(router, req);
  auto again = answer(router, req);
  if (first) *first = once;
  if (once.status != 200) return ::testing::AssertionFailure() << "answered " << once.status << ": " << once.body;
  if (again.status != 200) {
    return ::testing::AssertionFailure() << "the repeat answered " << again.status << ": " << again.body;
  }
  if (again.body != once.body) {
    return ::testing::AssertionFailure() << "the repeat answered another body:\n  " << once.body << "\n  "
                                         << again.body;
  }
  return ::testing::AssertionSuccess();
}

// The problem `fn` throws as a ProblemError, or one with status 0 when it throws none
// (any other exception goes through).
template <class Fn>
sales::Problem problem_of(Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
  } catch (const sales::ProblemError& e) {
    return e.problem();
  }
  sales::Problem none;
  none.status = 0;
  return none;
}

}  // namespace sales_test

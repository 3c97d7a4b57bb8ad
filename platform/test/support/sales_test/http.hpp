#pragma once
// For tests of handlers and decoders without a server: requests as the server hands them
// over, and the problem a call throws.
#include <string>
#include <utility>

#include "sales/http/message.hpp"
#include "sales/problem/problem.hpp"

namespace sales_test {

// A GET of `target` (path and query).
inline sales::http::Request get(std::string target) {
  sales::http::Request r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
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

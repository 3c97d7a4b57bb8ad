#pragma once
// A list's query string per the contract (DESIGN §2): limit, offset, and the filters the
// list's handler reads, nothing else.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/message.hpp"
#include "sales/problem/problem.hpp"

namespace sales::http {

// Pagination per the contract: limit 1..500 (default 50), offset >= 0; 400 otherwise.
struct Page {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
  // The client sent Cache-Control: no-cache (or, without Cache-Control, Pragma: no-cache;
  // parse_request_cache_control): the list's total is counted now, not taken from a recent
  // count (sales/pg/total_cache.hpp).
  bool fresh_total = false;
};

// Any parameter of a list but limit, offset and the filters its handler reads is a 400
// naming it with this message: a misspelt filter (?custmer_id=7) must not quietly answer
// with every row. (A client can tell from it that a service does not take a filter yet, as
// the order service does of the product service's ?ids=.)
inline constexpr std::string_view kNotAListParameter = "is not a parameter of this list";

// A list's query string (DESIGN §2): limit, offset and the filters its handler reads, each
// named once, where it is read:
//   http::ListQuery query(req);
//   Filter f{.order_id = query.id("order_id"), .status = query.parsed("status", parse_status, "must be …")};
//   auto page = query.page();
// A filter that is absent or bad reads as nullopt; page() then answers 400 for a parameter
// no filter read (kNotAListParameter), else for a bad limit or offset and every bad filter at
// once (the page's first). A filter given twice, or not UTF-8, is refused alone, after a bad
// page and before the other filters (Request::query_param's 400).
class ListQuery {
 public:
  explicit ListQuery(const Request& req) : req_(req) {}
  ListQuery(Request&&) = delete;  // it keeps a reference: the request must outlive it

  // Text of at most max_chars characters. An empty value is a search for anything (?q=, a
  // blank search box) or, for a filter that matches a value, a 400: ?email= matched nobody,
  // which only hid the client's missing value.
  enum class Empty { Allowed, Refused };
  std::optional<std::string> text(std::string_view name, std::size_t max_chars, Empty empty = Empty::Allowed);
  // A positive integer (?order_id=7).
  std::optional<std::int64_t> id(std::string_view name);
  // Positive integers separated by commas (?ids=3,5,8), 1 to max_count distinct ones: sorted,
  // each once.
  std::optional<std::vector<std::int64_t>> ids(std::string_view name, std::size_t max_count);
  // A value the list parses itself (a status): `parse` answers nullopt for a bad one, which
  // `message` then describes.
  template <class Parse>
  auto parsed(std::string_view name, Parse&& parse, std::string_view message) -> decltype(parse(std::string_view{})) {
    auto v = raw(name);
    if (!v) return std::nullopt;
    auto out = parse(std::string_view(*v));
    if (!out) errors_.push_back({std::string(name), std::string(message)});
    return out;
  }

  // The page, once every filter was read; throws the 400s above.
  [[nodiscard]] Page page() const;

 private:
  std::optional<std::string> raw(std::string_view name);  // notes `name` as a filter of the list

  const Request& req_;
  std::vector<std::string> filters_;  // in the order read, for the unknown-parameter answer
  std::vector<FieldError> errors_;
  std::optional<Problem> unreadable_;  // the first filter given twice or not UTF-8
};

}  // namespace sales::http

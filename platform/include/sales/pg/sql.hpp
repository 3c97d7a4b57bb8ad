#pragma once
// Pieces of SQL text shared by every service's statements.
#include <functional>
#include <string>

// SALES_PG_RFC3339(column): the SQL expression that reads a timestamptz as the API writes
// every time, RFC 3339 in UTC with microseconds ("2024-05-01T12:00:00.123456Z", DESIGN.md).
// A macro, not a function, because it must join the adjacent string literals of a
// `constexpr pg::Statement` at compile time; `column` is a string literal:
//
//   constexpr pg::Statement kFind{"thing_find",
//                                 "SELECT id, " SALES_PG_RFC3339("created_at") " FROM things WHERE id = $1"};
#define SALES_PG_RFC3339(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

// SALES_PG_PAGE(columns, table, key, filter, limit, offset): one page of a list, ordered by
// `key`, the rows `filter` keeps. The page's keys are found first and only its own rows are
// read: PostgreSQL computes a query's select list for every row an OFFSET skips, so the
// plain `SELECT columns ... LIMIT ... OFFSET ...` spent ~5 µs per skipped row on the
// timestamps' to_char alone (offset 1,000,000 of 1.1 M customers: over 5 s, a 504). Now the
// skipping reads keys only, an index-only scan when the filter allows (0.13 s there).
// `limit` and `offset` are parameter references such as "$2". A list's statements are
// planned per call (pg::Plan::per_call): how many rows its filter keeps and its offset decide
// the best plan, and a generic one cannot use the filter's index:
//
//   constexpr pg::Statement kList{"thing_list",
//                                 SALES_PG_PAGE("id, name", "things", "id", "$1::text IS NULL OR name = $1", "$2", "$3"),
//                                 pg::Plan::per_call};
#define SALES_PG_PAGE(columns, table, key, filter, limit, offset)                                                  \
  "SELECT " columns " FROM " table " WHERE " key " IN (SELECT " key " FROM " table " WHERE " filter " ORDER BY " key \
  " LIMIT " limit " OFFSET " offset ") ORDER BY " key

namespace sales::pg {

// A PostgreSQL array literal of integers, {1,2,3}, bound as one text parameter and cast in
// the statement ($1::bigint[]): a list of any length in one parameter. `project` picks each
// item's integer.
template <class Range, class Project = std::identity>
std::string int_array(const Range& items, Project project = {}) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += std::to_string(project(item));
  }
  return out + "}";
}

}  // namespace sales::pg

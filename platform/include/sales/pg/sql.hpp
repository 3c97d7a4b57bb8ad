#pragma once
// Pieces of SQL text shared by every service's statements.

// SALES_PG_RFC3339(column): the SQL expression that reads a timestamptz as the API writes
// every time, RFC 3339 in UTC with microseconds ("2024-05-01T12:00:00.123456Z", DESIGN.md).
// A macro, not a function, because it must join the adjacent string literals of a
// `constexpr pg::Statement` at compile time; `column` is a string literal:
//
//   constexpr pg::Statement kFind{"thing_find",
//                                 "SELECT id, " SALES_PG_RFC3339("created_at") " FROM things WHERE id = $1"};
#define SALES_PG_RFC3339(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

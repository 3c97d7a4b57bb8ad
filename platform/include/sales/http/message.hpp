#pragma once
// Plain HTTP request/response values. Handlers see only these; Beast stays inside the
// platform's server and client translation units.
#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sales::http {

// Header fields in arrival order; lookups ignore case (RFC 9110 §5.1).
class Headers {
 public:
  // A field set from code whose name or value holds CR, LF or NUL (it could split the
  // message) is a bug: it is dropped here, so it is never sent. Checked once, when stored,
  // not each time the message is written.
  void set(std::string name, std::string value);  // replaces every field of that name
  void add(std::string name, std::string value);  // appends another field
  // For a field from a parser that already refused control characters in names and values
  // (Beast's does), or one the code built from safe characters (digits, hex ids, an
  // address): stored unchecked.
  void add_unchecked(std::string name, std::string value);
  void set_unchecked(std::string name, std::string value);
  // The same for a field whose text lies elsewhere (a parser's buffer, a constant): its
  // strings are made in place, without temporaries to move from.
  void add_unchecked_copy(std::string_view name, std::string_view value);
  void set_unchecked_copy(std::string_view name, std::string_view value);
  void erase(std::string_view name);
  // Removes every field whose name `pred` holds true for, in one pass.
  template <class Pred>
  void erase_if(Pred pred) {
    std::erase_if(fields_, [&](const auto& f) { return pred(std::string_view(f.first)); });
  }
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;  // the first
  [[nodiscard]] std::size_t count(std::string_view name) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  void clear() { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // upper case as sent: GET, POST, ...
  std::string target;  // path and query, unchanged
  Headers headers;
  std::string body;
  std::string remote_ip;
  bool keep_alive = true;
  bool http10 = false;  // sent as HTTP/1.0: persistent only when the answer says keep-alive
  std::string route;  // the matched route pattern, set by the router: a bounded metrics label
  // When the server had read the request's header: where its X-Request-Budget-Ms starts.
  // Set by the blocking server only (its handlers honour the budget); the async one leaves it.
  std::chrono::steady_clock::time_point received_at{};
  // The connection it came on (the server's, open until the answer is written): client_left().
  int client_socket = -1;

  [[nodiscard]] std::string_view path() const;   // target without '?query'
  [[nodiscard]] std::string_view query() const;  // after '?', or empty
  // The value of a query parameter, percent-decoded; nullopt if absent; a 400 problem naming
  // it when it is given more than once (not read as its first value), is not valid
  // percent-encoded UTF-8, or holds a NUL.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
  // Every parameter's name in order, percent-decoded (customer%5Fid is customer_id), repeats
  // included; empty pairs (a&&b) are skipped, and =5 is a parameter named "" (known to no route).
  [[nodiscard]] std::vector<std::string> query_keys() const;
  // The request id the server assigned (from X-Request-Id or generated).
  [[nodiscard]] std::string_view request_id() const;
  // The gateway's X-Request-Budget-Ms: milliseconds its attempt had left when it sent the
  // request; nullopt when absent or not a non-negative integer (then it is ignored).
  [[nodiscard]] std::optional<std::chrono::milliseconds> remaining_budget() const;
};

// Whether the client that sent `req` has gone: its connection has been closed or reset (a
// peek at it finds the end, or fails). A pipelined next request counts as still there, and
// so does a request read from no connection (a test's). A client that only half-closed after
// sending (shutdown of its writing side) reads as gone too, as nginx takes it. For work
// nobody would wait for: the gateway's retries. One system call. Only while the server
// handles `req`: the socket is the session's, and a copy kept longer holds a stale number.
bool client_left(const Request& req);

// The longest head an answer may have, as clients and the gateway's upstream pool read the
// services' answers (Beast's default header_limit for a response parser).
inline constexpr std::size_t kAnswerHeadLimit = 8 * 1024;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  bool keep_alive = true;
  // An answer to HEAD passed on from another server has no body to count: the length that
  // server declared for the GET's body, written as Content-Length (RFC 9110 §8.6).
  std::optional<std::size_t> head_length;
  // Memory this answer is charged to (the gateway's budget for upstream answers,
  // byte_budget.hpp), given back when the answer is destroyed: after it was written.
  std::shared_ptr<const void> charge;

  static Response json(int status, std::string body);
  static Response empty(int status);
};

// Percent-decoding of a query component ('+' means space); nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view in);

// Request text (a path, a query name) fit to quote in a problem: kept when it is valid UTF-8
// without control characters (text::has_control), else every byte outside printable ASCII
// percent-encoded; at most `max_chars` characters, then "…". Valid UTF-8 either way.
std::string printable(std::string_view text, std::size_t max_chars = 200);
// A decimal integer (an optional '-' and digits) and nothing else; nullopt when it is not
// one or does not fit 64 bits.
std::optional<std::int64_t> parse_integer(std::string_view s);
// A positive decimal integer and nothing else (an id in a path or a query).
std::optional<std::int64_t> parse_positive(std::string_view s);
// Lower-case ASCII compare, for header names. A header lookup compares every field's name
// and most differ in length, so that test is inline and only equal lengths make a call.
bool iequals_same_length(std::string_view a, std::string_view b);
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequals_same_length(a, b);
}

}  // namespace sales::http

#include "sales/http/message.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <tuple>

#include <sys/socket.h>

#include <cerrno>

#include "sales/problem/problem.hpp"
#include "sales/text/ascii.hpp"
#include "sales/text/utf8.hpp"
#include "sales/text/word_scan.hpp"

namespace sales::http {

bool iequals_same_length(std::string_view a, std::string_view b) { return text::iequals(a, b); }

namespace {
// True when s holds no CR, LF or NUL, eight bytes at a time.
bool no_line_breaks(std::string_view s) {
  namespace ws = text::word_scan;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const auto w = ws::load(s.data() + i);
    if (ws::has_byte(w, '\0') || ws::has_byte(w, '\r') || ws::has_byte(w, '\n')) return false;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return false;
  }
  return true;
}

bool safe_field(std::string_view name, std::string_view value) {
  return !name.empty() && no_line_breaks(name) && no_line_breaks(value);
}
}  // namespace

void Headers::set(std::string name, std::string value) {
  erase(name);
  add(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
  if (safe_field(name, value)) add_unchecked(std::move(name), std::move(value));
}

void Headers::set_unchecked(std::string name, std::string value) {
  erase(name);
  add_unchecked(std::move(name), std::move(value));
}

void Headers::add_unchecked(std::string name, std::string value) {
  // Room for a typical message's fields at once, instead of growing 1, 2, 4, 8.
  if (fields_.capacity() == 0) fields_.reserve(12);
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::add_unchecked_copy(std::string_view name, std::string_view value) {
  if (fields_.capacity() == 0) fields_.reserve(12);
  fields_.emplace_back(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple(value));
}

void Headers::set_unchecked_copy(std::string_view name, std::string_view value) {
  erase(name);
  add_unchecked_copy(name, value);
}

void Headers::erase(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::size_t Headers::count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(fields_.begin(), fields_.end(), [&](const auto& f) { return iequals(f.first, name); }));
}

std::string_view Request::path() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_positive(std::string_view s) {
  auto v = parse_integer(s);
  if (!v || *v < 1) return std::nullopt;
  return v;
}

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  if (text::valid_utf8(text) && !text::has_control(text)) {
    out.assign(text);
  } else {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : text) {
      if (c >= 0x20 && c < 0x7F) {
        out.push_back(static_cast<char>(c));
      } else {
        out += {'%', kHex[c >> 4], kHex[c & 0xF]};
      }
    }
  }
  const auto kept = text::utf8_prefix_chars(out, max_chars);
  if (kept.size() == out.size()) return out;
  out.resize(kept.size());
  return out + "\u2026";
}

namespace {
// A key as the client meant it: `customer%5Fid` is customer_id. One whose escapes are broken
// or decode to no UTF-8 text stays as sent (it names no parameter; a list reports it as
// unknown, through printable()).
std::string decoded_key(std::string_view raw) {
  if (raw.find_first_of("%+") == std::string_view::npos) return std::string(raw);
  auto decoded = percent_decode(raw);
  if (!decoded || !text::valid_utf8(*decoded) || decoded->find('\0') != std::string::npos) return std::string(raw);
  return std::move(*decoded);
}

bool key_is(std::string_view raw, std::string_view name) {
  if (raw.find_first_of("%+") == std::string_view::npos) return raw == name;  // no allocation
  return decoded_key(raw) == name;
}

// Calls f(raw key, raw value) for every `key[=value]` of the query; empty pairs (a&&b) are
// skipped, and ?=5 has an empty key (a client's filter whose name came out empty).
template <typename F>
void for_each_pair(std::string_view q, F&& f) {
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.empty()) continue;  // a&&b; but =5 is a parameter with an empty name, never a known one
    f(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
  }
}
}  // namespace

std::vector<std::string> Request::query_keys() const {
  std::vector<std::string> keys;
  for_each_pair(query(), [&](std::string_view key, std::string_view) { keys.push_back(decoded_key(key)); });
  return keys;
}

// A parameter given twice (?status=PAID&status=SHIPPED) is refused rather than read as its
// first value: the client may have meant "either", and would get a silently narrower answer.
std::optional<std::string> Request::query_param(std::string_view name) const {
  std::optional<std::string_view> found;
  bool twice = false;
  for_each_pair(query(), [&](std::string_view key, std::string_view value) {
    if (!key_is(key, name)) return;
    twice = twice || found.has_value();
    found = value;
  });
  if (twice) {
    std::string field(name);
    throw ProblemError(Problem::bad_request("The query parameter '" + field + "' is given more than once.",
                                            {{field, "must be given at most once"}}));
  }
  if (!found) return std::nullopt;
  auto decoded = percent_decode(*found);
  if (!decoded || !text::valid_utf8(*decoded) || decoded->find('\0') != std::string::npos) {
    std::string field(name);
    throw ProblemError(Problem::bad_request("The query parameter '" + field + "' is not valid percent-encoded UTF-8 text.",
                                            {{field, "must be percent-encoded UTF-8 text without NUL"}}));
  }
  return decoded;
}

std::string_view Request::request_id() const { return headers.get("X-Request-Id").value_or(""); }

bool client_left(const Request& req) {
  if (req.client_socket < 0) return false;
  char byte = 0;
  const ssize_t n = ::recv(req.client_socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return n == 0;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

std::optional<std::chrono::milliseconds> Request::remaining_budget() const {
  auto v = headers.get("X-Request-Budget-Ms");
  if (!v) return std::nullopt;
  auto ms = parse_integer(*v);
  if (!ms || *ms < 0) return std::nullopt;
  return std::chrono::milliseconds(*ms);
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add_unchecked("Content-Type", "application/json");  // a new response: no field to replace
  r.body = std::move(body);
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

}  // namespace sales::http

#include "sales/json/read.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value_stack.hpp>
#include <algorithm>
#include <cmath>

#include "sales/http/message.hpp"
#include "sales/money/money.hpp"
#include "sales/text/utf8.hpp"

namespace sales::json {

namespace {
// Decimal places a number literal really has ("19.990" has 2, "1e-3" has 3), from its text:
// a double cannot tell 19.999999999999999 from 20.
int decimals_of(std::string_view literal) {
  auto e = literal.find_first_of("eE");
  std::string_view mantissa = literal.substr(0, e);
  long exponent = e == std::string_view::npos ? 0 : std::strtol(std::string(literal.substr(e + 1)).c_str(), nullptr, 10);
  auto dot = mantissa.find('.');
  std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : mantissa.substr(dot + 1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  long places = static_cast<long>(fraction.size()) - exponent;
  return places < 0 ? 0 : static_cast<int>(std::min(places, 1000L));
}

// Boost.JSON's own handler, but a number with more than two decimals becomes NaN. No field
// of this API takes such a number: money has two decimals and counts are integers, so NaN
// reaches a field reader as "not a valid amount" instead of a silently rounded one.
struct MoneyAwareHandler {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();
  boost::json::value_stack st;
  std::string number;  // the parts of a number split across buffers
  std::size_t members = 0;  // members of all objects, as parsed

  MoneyAwareHandler() { st.reset(); }
  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::json::error_code&) {
    members += n;
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::json::error_code&) { st.push_array(n); return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) { st.push_chars(s); return true; }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) { st.push_key(s); return true; }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) { st.push_chars(s); return true; }
  bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) { st.push_string(s); return true; }
  bool on_number_part(boost::json::string_view s, boost::json::error_code&) { number.append(s.data(), s.size()); return true; }
  bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code&) { number.clear(); st.push_int64(i); return true; }
  bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code&) { number.clear(); st.push_uint64(u); return true; }
  bool on_double(double d, boost::json::string_view s, boost::json::error_code&) {
    number.append(s.data(), s.size());
    st.push_double(decimals_of(number) > 2 ? std::nan("") : d);
    number.clear();
    return true;
  }
  bool on_bool(bool b, boost::json::error_code&) { st.push_bool(b); return true; }
  bool on_null(boost::json::error_code&) { st.push_null(); return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }
};

// The members every object of `v` holds. A name given twice in one object leaves one member
// (the last), so a body with one holds fewer than were parsed.
std::size_t members_held(const boost::json::value& v) {
  std::size_t n = 0;
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) n += members_held(e);
  } else if (const auto* o = v.if_object()) {
    n = o->size();
    for (const auto& kv : *o) n += members_held(kv.value());
  }
  return n;
}

// Where the parser stopped, so a client can find the fault in its body: Boost.JSON's
// messages alone ("syntax error") say nothing of it. A leading byte order mark, which
// Windows tools write and RFC 8259 §8.1 forbids, is named: it reads as a syntax error at
// byte 1 otherwise.
std::string not_json(std::string_view body, std::size_t stopped_at, const boost::system::error_code& ec) {
  std::string why = "The request body is not valid JSON: ";
  if (body.starts_with("\xEF\xBB\xBF")) return why + "it starts with a byte order mark (EF BB BF); send UTF-8 without one.";
  why += ec.message();
  if (ec == boost::json::error::incomplete) return why + " (the body ends before the JSON does).";
  return why + " at byte " + std::to_string(stopped_at + 1) + " of " + std::to_string(body.size()) + ".";
}
}  // namespace

boost::json::object parse_object(std::string_view body) {
  if (body.empty()) throw ProblemError(Problem::bad_request("The request body is empty; a JSON object is required."));
  boost::json::parse_options opts;
  opts.max_depth = kMaxBodyDepth;
  boost::json::basic_parser<MoneyAwareHandler> parser(opts);
  boost::system::error_code ec;
  std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) ec = boost::json::error::extra_data;
  if (ec) throw ProblemError(Problem::bad_request(not_json(body, used, ec)));
  boost::json::value v = parser.handler().st.release();
  if (!v.is_object()) throw ProblemError(Problem::bad_request("The request body must be a JSON object."));
  // RFC 8259 leaves a repeated name to the reader; here it is a client's bug that would
  // otherwise pass silently ({"price":1,"price":-5} took the second), in a body read strictly.
  if (members_held(v) != parser.handler().members) {
    throw ProblemError(Problem::bad_request("The request body gives a member's name twice in one object."));
  }
  return std::move(v.as_object());
}

namespace {
using sales::text::utf8_length;

const char* type_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "unknown";
}
}  // namespace

bool FieldReader::is_null(std::string_view name) const {
  auto it = obj_.find(name);
  return it != obj_.end() && it->value().is_null();
}

std::optional<std::string> FieldReader::string(std::string_view name, bool required, std::size_t max_len,
                                               std::size_t min_len) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) {
    if (required) error(std::string(name), "is required");
    return std::nullopt;
  }
  if (!it->value().is_string()) {
    error(std::string(name), std::string("must be a string, not ") + type_name(it->value()));
    return std::nullopt;
  }
  std::string_view s = it->value().as_string();
  std::size_t len = utf8_length(s);
  if (len > max_len) {
    error(std::string(name), "must be at most " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  if (len < min_len || (min_len > 0 && sales::text::looks_blank(s))) {
    error(std::string(name), min_len <= 1 ? "must not be empty" : "must be at least " + std::to_string(min_len) + " characters");
    return std::nullopt;
  }
  if (s.find('\0') != std::string_view::npos) {
    error(std::string(name), "must not contain NUL characters");
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::string> FieldReader::text_without_controls(std::string_view name, bool required,
                                                             std::size_t max_len, std::size_t min_len, bool multiline) {
  auto s = string(name, required, max_len, min_len);
  if (!s) return s;
  if (sales::text::has_control(*s, multiline)) {
    error(std::string(name), multiline ? "must be text without control characters (line breaks and tabs are allowed)"
                                       : "must be one line of text, without control characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> FieldReader::line(std::string_view name, bool required, std::size_t max_len,
                                             std::size_t min_len) {
  return text_without_controls(name, required, max_len, min_len, false);
}

std::optional<std::string> FieldReader::lines(std::string_view name, bool required, std::size_t max_len,
                                              std::size_t min_len) {
  return text_without_controls(name, required, max_len, min_len, true);
}

std::optional<std::int64_t> FieldReader::integer(std::string_view name, bool required, std::int64_t min,
                                                 std::int64_t max) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) {
    if (required) error(std::string(name), "is required");
    return std::nullopt;
  }
  const auto& v = it->value();
  auto out_of_range = [&] { return "must be between " + std::to_string(min) + " and " + std::to_string(max); };
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64()) {
    error(std::string(name), out_of_range());
    return std::nullopt;  // above int64: beyond any bound we accept
  } else if (v.is_double()) {
    // 2.0 and 1e2 are the numbers 2 and 100 (some serialisers write every number so). Below
    // 2^45 a double keeps any fraction a body may carry (two decimals at most, the parser's
    // rule; a step of 2^-7 there), with room for a parse that is not exactly rounded; higher
    // it can round one away (2251799813685248.01, 9007199254740993.0): another id.
    constexpr double kExact = 35184372088832.0;  // 2^45
    const double d = v.as_double();
    if (!std::isfinite(d) || std::trunc(d) != d) {
      error(std::string(name), "must be a whole number");
      return std::nullopt;
    }
    if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
      error(std::string(name), out_of_range());
      return std::nullopt;
    }
    if (std::fabs(d) >= kExact) {
      error(std::string(name), "must be written as an integer (digits only) from 2^45 on");
      return std::nullopt;
    }
    n = static_cast<std::int64_t>(d);
  } else {
    error(std::string(name), std::string("must be an integer, not ") + type_name(v));
    return std::nullopt;
  }
  if (n < min || n > max) {
    error(std::string(name), out_of_range());
    return std::nullopt;
  }
  return n;
}

std::optional<std::int64_t> FieldReader::money(std::string_view name, bool required) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) {
    if (required) error(std::string(name), "is required");
    return std::nullopt;
  }
  const auto& v = it->value();
  std::optional<std::int64_t> cents;
  if (v.is_int64()) {
    std::int64_t n = v.as_int64();
    if (n >= 0 && n <= sales::money::kMaxCents / 100) cents = n * 100;
    else if (n < 0) {
      error(std::string(name), "must not be negative");
      return std::nullopt;
    }
  } else if (v.is_double()) {
    if (v.as_double() < 0) {
      error(std::string(name), "must not be negative");
      return std::nullopt;
    }
    cents = sales::money::cents_from_double(v.as_double());
  } else if (!v.is_uint64()) {
    error(std::string(name), std::string("must be a number, not ") + type_name(v));
    return std::nullopt;
  }
  if (!cents) {
    error(std::string(name), "must be an amount with at most two decimals, up to " +
                                 sales::money::format(sales::money::kMaxCents));
  }
  return cents;
}

void FieldReader::refuse(std::initializer_list<std::string_view> names, std::string_view why) {
  for (auto n : names) {
    if (!has(n)) continue;
    error(std::string(n), std::string(why));
    refused_.push_back(n);
  }
}

void FieldReader::allow_only(std::initializer_list<std::string_view> names) {
  for (const auto& kv : obj_) {
    bool known = std::find(refused_.begin(), refused_.end(), kv.key()) != refused_.end();
    for (auto n : names) known = known || kv.key() == n;
    // Named as the query's unknown parameters are: cut, so that a 1 MiB name is not echoed
    // back twice (in errors[] and in detail).
    if (!known) error(sales::http::printable(kv.key(), 64), "is not a known field");
  }
}

void FieldReader::finish() const {
  if (errors_.empty()) return;
  // A body of 60,000 unknown fields is 1 MiB; its answer must not be five: the count is
  // whole, the list is not.
  constexpr std::size_t kMaxListed = 100;
  std::string detail = "The request has " + std::to_string(errors_.size()) + " invalid field" +
                       (errors_.size() == 1 ? "" : "s") + ": " +
                       join_in_detail(errors_.size(), [&](std::size_t i) { return errors_[i].field + " " + errors_[i].message; }) +
                       ".";
  std::vector<FieldError> listed(errors_.begin(), errors_.begin() + static_cast<std::ptrdiff_t>(std::min(errors_.size(), kMaxListed)));
  throw ProblemError(Problem::bad_request(std::move(detail), std::move(listed)));
}

}  // namespace sales::json

#include "sales/json/read.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include "sales/money/money.hpp"

namespace sales::json {

boost::json::object parse_object(std::string_view body) {
  if (body.empty()) throw ProblemError(Problem::bad_request("The request body is empty; a JSON object is required."));
  boost::json::parse_options opts;
  opts.max_depth = 16;  // our documents are shallow; deep nesting is an attack, not data
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, {}, opts);
  if (ec) throw ProblemError(Problem::bad_request("The request body is not valid JSON: " + ec.message() + "."));
  if (!v.is_object()) throw ProblemError(Problem::bad_request("The request body must be a JSON object."));
  return std::move(v.as_object());
}

namespace {
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

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
  bool blank = s.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (len < min_len || (min_len > 0 && blank)) {
    error(std::string(name), min_len <= 1 ? "must not be empty" : "must be at least " + std::to_string(min_len) + " characters");
    return std::nullopt;
  }
  if (s.find('\0') != std::string_view::npos) {
    error(std::string(name), "must not contain NUL characters");
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::int64_t> FieldReader::integer(std::string_view name, bool required, std::int64_t min,
                                                 std::int64_t max) {
  auto it = obj_.find(name);
  if (it == obj_.end() || it->value().is_null()) {
    if (required) error(std::string(name), "is required");
    return std::nullopt;
  }
  const auto& v = it->value();
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64()) {
    n = INT64_MAX;  // beyond any bound we accept
  } else {
    error(std::string(name), v.is_double() ? "must be a whole number" : std::string("must be an integer, not ") + type_name(v));
    return std::nullopt;
  }
  if (n < min || n > max) {
    error(std::string(name), "must be between " + std::to_string(min) + " and " + std::to_string(max));
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

void FieldReader::allow_only(std::initializer_list<std::string_view> names) {
  for (const auto& kv : obj_) {
    bool known = false;
    for (auto n : names) known = known || kv.key() == n;
    if (!known) error(std::string(kv.key()), "is not a known field");
  }
}

void FieldReader::finish() const {
  if (errors_.empty()) return;
  std::string detail = "The request has " + std::to_string(errors_.size()) + " invalid field" +
                       (errors_.size() == 1 ? "" : "s") + ": ";
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    if (i) detail += "; ";
    detail += errors_[i].field + " " + errors_[i].message;
  }
  detail += ".";
  throw ProblemError(Problem::bad_request(std::move(detail), errors_));
}

}  // namespace sales::json

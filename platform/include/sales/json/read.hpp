#pragma once
// Decoding untrusted JSON bodies into checked fields. Every failure is a 400 problem with
// the field named; a handler collects errors with a FieldReader and calls finish().
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sales/problem/problem.hpp"

namespace sales::json {

// How deep a request body may nest: our documents are shallow; deep nesting is an attack, not data.
inline constexpr int kMaxBodyDepth = 16;

// Parses a request body that must be a JSON object (400 otherwise; 415 is the server's job).
boost::json::object parse_object(std::string_view body);

class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& obj) : obj_(obj) {}

  // Each returns nullopt when absent (and records an error when required) or invalid.
  std::optional<std::string> string(std::string_view name, bool required, std::size_t max_len,
                                    std::size_t min_len = 0);
  // The same for one line of text (a name, a contact): no control characters either (no
  // line break, tab, BEL, DEL, C1, nor U+2028/U+2029), which a list, a label or a log line
  // would show broken.
  std::optional<std::string> line(std::string_view name, bool required, std::size_t max_len, std::size_t min_len = 0);
  // Text of several lines (an address, a description): line breaks and tabs, but no other
  // control character (an escape sequence, BEL, C1), which would reach a label or a terminal.
  std::optional<std::string> lines(std::string_view name, bool required, std::size_t max_len, std::size_t min_len = 0);
  std::optional<std::int64_t> integer(std::string_view name, bool required, std::int64_t min,
                                      std::int64_t max);
  std::optional<std::int64_t> money(std::string_view name, bool required);  // cents
  std::optional<std::int64_t> id(std::string_view name, bool required) {
    return integer(name, required, 1, INT64_MAX);
  }
  [[nodiscard]] bool has(std::string_view name) const { return obj_.contains(name); }
  [[nodiscard]] bool is_null(std::string_view name) const;
  void error(std::string field, std::string message) { errors_.push_back({std::move(field), std::move(message)}); }
  // Members a client may see but not send (id, created_at): each one given is an error that
  // says `why` ("cannot be changed"), and allow_only() does not call it unknown as well.
  void refuse(std::initializer_list<std::string_view> names, std::string_view why);
  // id, created_at, updated_at: the server's to set, on a create as on a change.
  void refuse_server_fields() { refuse({"id", "created_at", "updated_at"}, "is set by the server and cannot be sent"); }
  // Unknown members are rejected so that a typo never silently does nothing.
  void allow_only(std::initializer_list<std::string_view> names);
  [[nodiscard]] bool ok() const { return errors_.empty(); }
  // Throws a 400 ProblemError listing every field error, if any.
  void finish() const;

 private:
  // string(), then no control character but, with `multiline`, line breaks and tabs.
  std::optional<std::string> text_without_controls(std::string_view name, bool required, std::size_t max_len,
                                                   std::size_t min_len, bool multiline);
  const boost::json::object& obj_;
  std::vector<FieldError> errors_;
  std::vector<std::string_view> refused_;  // names refuse() has answered for
};

}  // namespace sales::json

#include "sales_test/problem_check.hpp"

#include <string>

namespace sales_test {

namespace {
std::string_view text_of(const boost::json::value& doc, std::string_view key) {
  const auto* v = doc.is_object() ? doc.as_object().if_contains(key) : nullptr;
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}
}  // namespace

::testing::AssertionResult problem_document(const Answer& a, int status) {
  auto fail = [](const std::string& why) { return ::testing::AssertionFailure() << why; };
  if (a.status != status) return fail("expected HTTP " + std::to_string(status) + ", got " + std::to_string(a.status));
  if (a.headers.get("Content-Type").value_or("").rfind("application/problem+json", 0) != 0) {
    return fail("Content-Type is not application/problem+json");
  }
  if (!a.json.is_object()) return fail("the body is not a JSON object");
  for (const char* member : {"type", "title", "detail"}) {
    if (text_of(a.json, member).empty()) return fail(std::string("no string member '") + member + "'");
  }
  const auto* s = a.json.as_object().if_contains("status");
  if (!s || !s->is_int64() || s->as_int64() != status) return fail("member 'status' is not " + std::to_string(status));
  if (!a.headers.get("X-Request-Id")) return fail("no X-Request-Id header");
  for (const char* leak : {"SQLSTATE", "ERROR:", "std::", "terminate called", "libpq", "pg_"}) {
    if (a.body.find(leak) != std::string_view::npos) return fail(std::string("the problem leaks internals: ") + leak);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult names_field_error(const Answer& a, std::string_view field, int status) {
  auto base = problem_document(a, status);
  if (!base) return base;
  const auto* errors = a.json.as_object().if_contains("errors");
  if (!errors || !errors->is_array() || errors->as_array().empty()) return ::testing::AssertionFailure() << "no errors[] array";
  bool found = false;
  for (const auto& e : errors->as_array()) {
    if (!e.is_object()) return ::testing::AssertionFailure() << "an errors[] entry is not an object";
    const auto* f = e.as_object().if_contains("field");
    if (!f || !f->is_string() || text_of(e, "message").empty()) {
      return ::testing::AssertionFailure() << "an errors[] entry lacks field or message";
    }
    found = found || f->as_string() == field;
  }
  if (!found) return ::testing::AssertionFailure() << "errors[] does not name field '" << field << "'";
  return ::testing::AssertionSuccess();
}

}  // namespace sales_test

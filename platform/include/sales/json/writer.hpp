#pragma once
// A small streaming JSON writer for responses and events. Boost.JSON would print money
// as 1.999E1; this prints 19.99, and it is cheaper than building a DOM per response.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sales::json {

class Writer {
 public:
  // Room for one resource from the start: growing 15, 30, 60, 120, 240 bytes cost a GET
  // four allocations and copies.
  Writer() { out_.reserve(kInitialBytes); }
  static constexpr std::size_t kInitialBytes = 256;

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(std::int64_t n);
  Writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  Writer& value(bool b);
  Writer& null();
  template <class T>
  Writer& value(const std::optional<T>& v) { return v ? value(*v) : null(); }  // null when empty
  Writer& money(std::int64_t cents);  // 1999 -> 19.99
  Writer& raw(std::string_view json);  // an already-serialised value
  template <class T>
  Writer& field(std::string_view k, const T& v) { key(k); return value(v); }
  Writer& money_field(std::string_view k, std::int64_t cents) { key(k); return money(cents); }

  [[nodiscard]] const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

// `s` as a JSON string, quotes included, appended to `out`. `s` must not point into `out`
// (appending may move out's bytes).
void append_escaped(std::string& out, std::string_view s);

}  // namespace sales::json

#include "sales/json/canonical.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <vector>

#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"

namespace sales::json {

namespace {
void write(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      // A whole number is written as one whichever way it came (2.0, 2e0): below 2^53 the
      // double holds it exactly. Otherwise the shortest text that reads back as this double.
      if (std::trunc(d) == d && std::fabs(d) < 9007199254740992.0) {
        out += std::to_string(static_cast<std::int64_t>(d));
      } else {
        out += fmt::format("{}", d);
      }
      return;
    }
    case boost::json::kind::string: append_escaped(out, v.get_string()); return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(out, e);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(obj.size());
      for (const auto& kv : obj) members.push_back(&kv);
      std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        append_escaped(out, members[i]->key());
        out += ':';
        write(out, members[i]->value());
      }
      out += '}';
      return;
    }
  }
}
}  // namespace

std::optional<std::string> canonical(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = kMaxBodyDepth;  // as parse_object: a body deeper than this was refused anyway
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec, {}, opts);
  if (ec) return std::nullopt;
  std::string out;
  out.reserve(text.size());
  write(out, v);
  return out;
}

}  // namespace sales::json

#include "sales/http/cache_control.hpp"

#include <charconv>
#include <string_view>

#include "sales/http/header_lists.hpp"
#include "sales/text/ascii.hpp"

namespace sales::http {

namespace {

// delta-seconds (§1.2.2): digits only; a value past 2^31 counts as 2^31.
std::optional<std::chrono::seconds> delta_seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);  // tolerated, §5.2
  if (!text::all_digits(v)) return std::nullopt;
  constexpr std::int64_t kMax = std::int64_t{1} << 31;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc::result_out_of_range || n > kMax) n = kMax;
  return std::chrono::seconds(n);
}

void apply(CacheControl& cc, std::string_view directive) {
  auto eq = directive.find('=');
  auto name = trim_ows(directive.substr(0, eq));
  auto value = eq == std::string_view::npos ? std::string_view{} : trim_ows(directive.substr(eq + 1));
  if (iequals(name, "no-store")) {
    cc.no_store = true;
  } else if (iequals(name, "no-cache")) {
    cc.no_cache = true;  // with or without a field list: either way the gateway does not reuse it
  } else if (iequals(name, "private")) {
    cc.is_private = true;
  } else if (iequals(name, "max-age") || iequals(name, "s-maxage")) {
    auto seconds = delta_seconds(value);
    if (!seconds) {
      cc.malformed = true;
      return;
    }
    (iequals(name, "max-age") ? cc.max_age : cc.s_maxage) = seconds;
  }
}
}  // namespace

std::optional<std::chrono::seconds> CacheControl::shared_lifetime() const {
  if (no_store || no_cache || is_private || malformed) return std::nullopt;
  auto lifetime = s_maxage ? s_maxage : max_age;
  if (!lifetime || lifetime->count() <= 0) return std::nullopt;
  return lifetime;
}

CacheControl parse_cache_control(const Headers& headers) {
  CacheControl cc;
  for (const auto& [name, value] : headers.fields()) {
    if (!iequals(name, "Cache-Control")) continue;
    for_each_list_element(value, [&](std::string_view d) { apply(cc, d); });
  }
  return cc;
}

CacheControl parse_request_cache_control(const Headers& headers) {
  CacheControl cc;
  bool has_cache_control = false;
  bool pragma_no_cache = false;
  for (const auto& [name, value] : headers.fields()) {
    if (iequals(name, "Cache-Control")) {
      has_cache_control = true;
      for_each_list_element(value, [&](std::string_view d) { apply(cc, d); });
    } else if (iequals(name, "Pragma")) {
      for_each_list_element(value, [&](std::string_view d) {
        pragma_no_cache = pragma_no_cache || iequals(trim_ows(d.substr(0, d.find('='))), "no-cache");
      });
    }
  }
  if (!has_cache_control && pragma_no_cache) cc.no_cache = true;
  return cc;
}

}  // namespace sales::http

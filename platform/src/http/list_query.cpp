#include "sales/http/list_query.hpp"

#include <algorithm>

#include "sales/http/cache_control.hpp"
#include "sales/text/utf8.hpp"

namespace sales::http {

std::optional<std::string> ListQuery::raw(std::string_view name) {
  filters_.emplace_back(name);
  try {
    return req_.query_param(name);
  } catch (const ProblemError& e) {
    if (!unreadable_) unreadable_ = e.problem();  // answered by page(), in its turn
    return std::nullopt;
  }
}

std::optional<std::string> ListQuery::text(std::string_view name, std::size_t max_chars, Empty empty) {
  auto v = raw(name);
  if (v && v->empty() && empty == Empty::Refused) {
    errors_.push_back({std::string(name), "must not be empty"});
    return std::nullopt;
  }
  if (v && text::utf8_length(*v) > max_chars) {
    errors_.push_back({std::string(name), "must be at most " + std::to_string(max_chars) + " characters"});
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> ListQuery::id(std::string_view name) {
  return parsed(name, parse_positive, "must be a positive integer");
}

std::optional<std::vector<std::int64_t>> ListQuery::ids(std::string_view name, std::size_t max_count) {
  auto v = raw(name);
  if (!v) return std::nullopt;
  std::vector<std::int64_t> ids;
  bool ok = true;
  for (std::string_view rest = *v; ok;) {
    const auto comma = rest.find(',');
    auto id = parse_positive(rest.substr(0, comma));
    ok = id.has_value();
    if (ok) ids.push_back(*id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (!ok || ids.size() > max_count) {
    errors_.push_back({std::string(name), "must be 1 to " + std::to_string(max_count) +
                                              " positive integers separated by commas"});
    return std::nullopt;
  }
  return ids;
}

namespace {
void refuse_unknown_params(const Request& req, const std::vector<std::string>& filters) {
  constexpr std::string_view kPaging[] = {"limit", "offset"};
  auto known = [&](const std::string& key) {
    return std::find(std::begin(kPaging), std::end(kPaging), key) != std::end(kPaging) ||
           std::find(filters.begin(), filters.end(), key) != filters.end();
  };
  constexpr std::size_t kMaxNamed = 10;  // a query of thousands of names gets a short answer
  std::vector<FieldError> unknown;
  for (const auto& key : req.query_keys()) {
    if (known(key)) continue;
    auto name = printable(key, 64);
    if (std::any_of(unknown.begin(), unknown.end(), [&](const FieldError& e) { return e.field == name; })) continue;
    unknown.push_back({std::move(name), std::string(kNotAListParameter)});
    if (unknown.size() == kMaxNamed) break;
  }
  if (unknown.empty()) return;
  std::string detail = "This list takes only these query parameters: limit, offset";
  for (const auto& f : filters) detail.append(", ").append(f);
  // before `unknown` is moved
  detail += unknown.front().field.empty() ? "; a value without a name (?=...) is not one." : "; '" + unknown.front().field + "' is not one.";
  throw ProblemError(Problem::bad_request(std::move(detail), std::move(unknown)));
}
}  // namespace

Page ListQuery::page() const {
  refuse_unknown_params(req_, filters_);
  Page p;
  std::vector<FieldError> errors;
  auto read = [&](const char* name, std::int64_t min, std::int64_t max, std::int64_t& out) {
    auto v = req_.query_param(name);
    if (!v) return;
    auto n = parse_integer(*v);
    if (!n || *n < min || *n > max) {
      errors.push_back({name, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max)});
      return;
    }
    out = *n;
  };
  read("limit", 1, 500, p.limit);
  read("offset", 0, 1'000'000'000, p.offset);
  // Every bad bound and filter in one answer, as a body's invalid fields are (the page's
  // first); a filter that could not be read (given twice, not UTF-8) is answered alone.
  const bool bad_page = !errors.empty();
  if (!bad_page && unreadable_) throw ProblemError(*unreadable_);
  const bool bad_filter = !unreadable_ && !errors_.empty();
  if (bad_filter) errors.insert(errors.end(), errors_.begin(), errors_.end());
  if (bad_page || bad_filter) {
    const char* detail = !bad_filter ? "Invalid pagination parameters."
                         : bad_page  ? "Invalid pagination parameters and filters."
                                     : "Invalid filter.";
    throw ProblemError(Problem::bad_request(detail, std::move(errors)));
  }
  p.fresh_total = parse_request_cache_control(req_.headers).no_cache;
  return p;
}

}  // namespace sales::http

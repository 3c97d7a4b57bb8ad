#include "sales_test/metrics_text.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace sales_test {

namespace {

// A sample line's labels, `{k="v",...}` with the exposition's escapes (\\, \", \n) undone;
// nullopt when the text is not that shape.
std::optional<MetricLabels> parse_labels(std::string_view text, std::size_t& at) {
  MetricLabels out;
  if (at >= text.size() || text[at] != '{') return out;
  ++at;
  while (at < text.size() && text[at] != '}') {
    const auto eq = text.find("=\"", at);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string name(text.substr(at, eq - at));
    std::string value;
    at = eq + 2;
    for (; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && at + 1 < text.size()) {
        ++at;
        value += text[at] == 'n' ? '\n' : text[at];
      } else {
        value += text[at];
      }
    }
    if (at >= text.size()) return std::nullopt;
    ++at;  // the closing quote
    if (at < text.size() && text[at] == ',') ++at;
    out.emplace_back(std::move(name), std::move(value));
  }
  if (at >= text.size()) return std::nullopt;
  ++at;  // '}'
  return out;
}

}  // namespace

std::optional<double> metric_sum(std::string_view exposition, std::string_view name, const MetricLabels& labels) {
  std::optional<double> sum;
  for (std::size_t start = 0; start < exposition.size();) {
    auto end = exposition.find('\n', start);
    if (end == std::string_view::npos) end = exposition.size();
    const std::string_view line = exposition.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#' || !line.starts_with(name)) continue;
    std::size_t at = name.size();
    if (at < line.size() && line[at] != '{' && line[at] != ' ') continue;  // a longer name
    const auto found = parse_labels(line, at);
    if (!found || at >= line.size() || line[at] != ' ') continue;
    const bool wanted = std::all_of(labels.begin(), labels.end(), [&](const auto& l) {
      return std::find(found->begin(), found->end(), l) != found->end();
    });
    if (!wanted) continue;
    const std::string value(line.substr(at + 1, line.find(' ', at + 1) - at - 1));  // a timestamp may follow
    char* parsed_to = nullptr;
    const double v = std::strtod(value.c_str(), &parsed_to);
    if (parsed_to == value.c_str()) continue;
    sum = sum.value_or(0) + v;
  }
  return sum;
}

}  // namespace sales_test

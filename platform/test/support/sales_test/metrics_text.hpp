#pragma once
// Reading a /metrics body (Prometheus text exposition 0.0.4) the way the e2e and saga tests
// check a running process: one parser for both suites.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sales_test {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// The sum of the samples of `name` whose labels include each of `labels` (other labels may
// be there too); nullopt when no sample matches. "x_total" does not match "x_total_more".
std::optional<double> metric_sum(std::string_view exposition, std::string_view name, const MetricLabels& labels = {});

}  // namespace sales_test

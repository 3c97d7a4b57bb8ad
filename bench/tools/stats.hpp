#pragma once
// Percentiles (nearest rank) and a tiny JSON printer for the load tools' one-line results.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

// values must be sorted; q in [0, 100].
inline double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Appends "name_p50":…,"name_p99":… etc. (milliseconds, three decimals).
inline void append_latency(std::string& out, const std::string& name, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double mean = 0;
  for (double v : ms) mean += v;
  if (!ms.empty()) mean /= static_cast<double>(ms.size());
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "\"%s_ms\":{\"count\":%zu,\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
                "\"max\":%.3f}",
                name.c_str(), ms.size(), mean, percentile(ms, 50), percentile(ms, 90), percentile(ms, 99),
                percentile(ms, 99.9), ms.empty() ? 0.0 : ms.back());
  out += buf;
}

}  // namespace bench

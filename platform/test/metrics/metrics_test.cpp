#include "sales/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>

namespace sales::metrics {
namespace {

TEST(Registry, RendersPrometheusText) {
  Registry r;
  r.counter("reqs_total", "Requests", {{"route", "/a"}}).inc(3);
  r.counter("reqs_total", "Requests", {{"route", "/a"}}).inc();
  r.gauge("backlog", "Rows").set(7);
  r.callback_gauge("pool", "Conns", [] { return 2.0; });
  auto& h = r.histogram("lat_seconds", "Latency", {}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("# TYPE reqs_total counter\nreqs_total{route=\"/a\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("backlog 7\n"), std::string::npos);
  EXPECT_NE(text.find("pool 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count 3\n"), std::string::npos);
}

// Values as Prometheus reads them: up to 12 significant digits, an exponent only for very
// large or small ones, and the exposition format's own words for infinities and NaN.
TEST(Registry, RendersNumbersAsTheExpositionFormatSpellsThem) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::pair<double, const char*> cases[] = {
      {0.1 + 0.2, "0.3"},      {1e6, "1000000"}, {0.005, "0.005"},    {1e20, "1e+20"},
      {1e-5, "1e-05"},         {-2.5, "-2.5"},   {-0.0, "-0"},        {123456789012.5, "123456789012"},
      {kInf, "+Inf"},          {-kInf, "-Inf"},  {std::nan(""), "NaN"}, {-std::nan(""), "NaN"},
  };
  for (const auto& [value, text] : cases) {
    Registry r;
    r.gauge("g", "A gauge").set(value);
    EXPECT_NE(r.render().find(std::string("\ng ") + text + "\n"), std::string::npos) << text << "\n" << r.render();
  }
}

}  // namespace
}  // namespace sales::metrics

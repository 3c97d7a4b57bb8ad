#include "sales/metrics/metrics.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sales::metrics

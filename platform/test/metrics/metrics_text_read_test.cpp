// The tests' reader of /metrics (sales_test::metric_sum) against what Registry::render writes:
// a wrong reader would make the e2e and saga checks of running processes pass or fail for
// the wrong reason.
#include <gtest/gtest.h>

#include "sales/metrics/metrics.hpp"
#include "sales_test/metrics_text.hpp"

namespace sales::metrics {
namespace {

using sales_test::metric_sum;

TEST(MetricsTextRead, SumsTheSamplesWhoseLabelsIncludeTheGivenOnes) {
  Registry r;
  r.counter("reqs_total", "Requests", {{"route", "/a"}, {"status", "200"}}).inc(3);
  r.counter("reqs_total", "Requests", {{"route", "/a"}, {"status", "404"}}).inc(2);
  r.counter("reqs_total", "Requests", {{"route", "/b"}, {"status", "404"}}).inc(5);
  r.counter("reqs_total_other", "Not the same name").inc(100);
  const auto text = r.render();
  EXPECT_EQ(metric_sum(text, "reqs_total"), 10);
  EXPECT_EQ(metric_sum(text, "reqs_total", {{"route", "/a"}}), 5);
  EXPECT_EQ(metric_sum(text, "reqs_total", {{"route", "/a"}, {"status", "404"}}), 2);
  EXPECT_EQ(metric_sum(text, "reqs_total", {{"status", "404"}}), 7);
  EXPECT_EQ(metric_sum(text, "reqs_total", {{"route", "/c"}}), std::nullopt);
  EXPECT_EQ(metric_sum(text, "reqs"), std::nullopt) << "a prefix of a name is not the name";
  EXPECT_EQ(metric_sum(text, "missing_total"), std::nullopt);
}

TEST(MetricsTextRead, ALabelMatchesWholeAndWithItsEscapesUndone) {
  Registry r;
  r.gauge("depth", "Rows", {{"queue", "order_queue"}}).set(4);
  r.gauge("depth", "Rows", {{"queue", "x_order_queue"}}).set(40);
  r.gauge("odd", "Escapes", {{"why", "say \"no\"\\\nthen"}}).set(1);
  const auto text = r.render();
  EXPECT_EQ(metric_sum(text, "depth", {{"queue", "order_queue"}}), 4) << "not a label that ends the same";
  EXPECT_EQ(metric_sum(text, "odd", {{"why", "say \"no\"\\\nthen"}}), 1) << text;
}

TEST(MetricsTextRead, ReadsHistogramSeriesAndUnlabelledSamples) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency", {{"route", "/a"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(5);
  r.gauge("backlog", "Rows").set(7);
  const auto text = r.render();
  EXPECT_EQ(metric_sum(text, "lat_seconds_count", {{"route", "/a"}}), 2);
  EXPECT_EQ(metric_sum(text, "lat_seconds_bucket", {{"le", "+Inf"}}), 2);
  EXPECT_EQ(metric_sum(text, "lat_seconds_bucket", {{"le", "0.1"}}), 1);
  EXPECT_EQ(metric_sum(text, "backlog"), 7);
  EXPECT_EQ(metric_sum("backlog 7 1700000000000\n", "backlog"), 7) << "a sample with a timestamp";
  EXPECT_EQ(metric_sum("broken{a=\"1\" 3\n", "broken"), std::nullopt) << "an unclosed label set is no sample";
}

}  // namespace
}  // namespace sales::metrics

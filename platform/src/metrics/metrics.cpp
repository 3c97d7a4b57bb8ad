#include "sales/metrics/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace sales::metrics {

void Gauge::add(double d) {
  double cur = v_.load(std::memory_order_relaxed);
  while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::vector<std::uint64_t> Histogram::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

double Histogram::sum() const { return sum_.load(std::memory_order_relaxed); }

const std::vector<double>& latency_buckets() {
  static const std::vector<double> b = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
  return b;
}

struct Registry::Family {
  std::string help;
  const char* type;
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> callback;
  };
  std::vector<Series> series;

  Series* find(const Labels& l) {
    for (auto& s : series) {
      if (s.labels == l) return &s;
    }
    return nullptr;
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(const std::string& name, const std::string& help, const char* type) {
  auto& f = families_[name];
  if (!f) f = std::make_unique<Family>(Family{help, type, {}});
  return *f;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, "counter");
  if (auto* s = f.find(labels)) return *s->counter;
  f.series.push_back({labels, std::make_unique<Counter>(), nullptr, nullptr, nullptr});
  return *f.series.back().counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, "gauge");
  if (auto* s = f.find(labels)) return *s->gauge;
  f.series.push_back({labels, nullptr, std::make_unique<Gauge>(), nullptr, nullptr});
  return *f.series.back().gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, const Labels& labels,
                               const std::vector<double>& bounds) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, "histogram");
  if (auto* s = f.find(labels)) return *s->histogram;
  f.series.push_back({labels, nullptr, nullptr, std::make_unique<Histogram>(bounds), nullptr});
  return *f.series.back().histogram;
}

void Registry::callback_gauge(const std::string& name, const std::string& help, std::function<double()> fn,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& f = family(name, help, "gauge");
  if (auto* s = f.find(labels)) {
    s->callback = std::move(fn);
    return;
  }
  f.series.push_back({labels, nullptr, nullptr, nullptr, std::move(fn)});
}

namespace {
std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& extra_key = {}, const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + escape_label(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";  // the exposition format's spelling; "-nan" fails a scrape
  return fmt::format("{:.12g}", v);  // as an ostream at precision 12 writes it
}
}  // namespace

std::string Registry::render() const {
  // Callback gauges run outside the lock: one may be slow (a query) without blocking every
  // metric update, and may itself use the registry.
  std::vector<std::pair<std::string, std::function<double()>>> pending;
  std::string out;
  out.reserve(8192);
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + " " + f->help + "\n# TYPE " + name + " " + f->type + "\n";
      for (const auto& s : f->series) {
        if (s.counter) out += name + label_text(s.labels) + " " + std::to_string(s.counter->value()) + "\n";
        if (s.gauge) out += name + label_text(s.labels) + " " + number(s.gauge->value()) + "\n";
        if (s.callback) {
          // A marker keeps the family's order; the value is filled in below.
          out += "\x01" + std::to_string(pending.size()) + "\n";
          pending.emplace_back(name + label_text(s.labels), s.callback);
        }
        if (s.histogram) {
          auto counts = s.histogram->counts();
          const auto& bounds = s.histogram->bounds();
          for (std::size_t i = 0; i < bounds.size(); ++i) {
            out += name + "_bucket" + label_text(s.labels, "le", number(bounds[i])) + " " + std::to_string(counts[i]) + "\n";
          }
          out += name + "_bucket" + label_text(s.labels, "le", "+Inf") + " " + std::to_string(counts.back()) + "\n";
          out += name + "_sum" + label_text(s.labels) + " " + number(s.histogram->sum()) + "\n";
          out += name + "_count" + label_text(s.labels) + " " + std::to_string(counts.back()) + "\n";
        }
      }
    }
  }
  if (pending.empty()) return out;
  std::string final_text;
  final_text.reserve(out.size() + pending.size() * 32);
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto end = out.find('\n', pos);
    std::string_view line(out.data() + pos, end - pos);
    if (!line.empty() && line.front() == '\x01') {
      auto& [series, fn] = pending[std::stoul(std::string(line.substr(1)))];
      final_text += series + " " + number(fn()) + "\n";
    } else {
      final_text.append(line).push_back('\n');
    }
    pos = end + 1;
  }
  return final_text;
}

Registry& global() {
  // Never destroyed: threads that outlive main (a name resolution still running, detached)
  // may count in it while the process exits.
  static auto* r = new Registry;
  return *r;
}

}  // namespace sales::metrics

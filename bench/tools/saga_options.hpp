#pragma once
// bench_saga_load's command line (usage in saga_load.cpp's opening comment).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "flags.hpp"

namespace bench::saga {

struct Options {
  std::string mode = "closed";
  std::string post_url = "http://127.0.0.1:8080";
  std::string poll_url = "http://127.0.0.1:8002";
  std::int64_t customer = 0;
  std::vector<std::int64_t> products;
  int workers = 16;
  double duration = 10;
  double rate = 100;
  int poll_ms = 2;
  int timeout_ms = 10000;
  std::string watch;  // amqp | poll; default: amqp when BENCH_AMQP_PASSWORD is set
  std::string trace;  // a CSV file with one line per order (empty: none)
};

[[noreturn]] inline void usage(const char* msg) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_saga_load --mode closed|open --customer ID --products ID,ID "
               "[--post-url URL] [--poll-url URL] [--workers N] [--duration S] [--rate R] [--poll-ms MS] "
               "[--timeout-ms MS] [--watch amqp|poll] [--trace FILE.csv]\n",
               msg);
  std::exit(2);
}

inline Options parse(int argc, char** argv) {
  Options o;
  bench::parse_flags(argc, argv, usage, [&](const std::string& a, const std::string& v) {
    if (a == "--mode") o.mode = v;
    else if (a == "--post-url") o.post_url = v;
    else if (a == "--poll-url") o.poll_url = v;
    else if (a == "--customer") o.customer = std::stoll(v);
    else if (a == "--products") {
      std::size_t p = 0;
      while (p < v.size()) {
        auto c = v.find(',', p);
        o.products.push_back(std::stoll(v.substr(p, c - p)));
        if (c == std::string::npos) break;
        p = c + 1;
      }
    } else if (a == "--workers") o.workers = std::stoi(v);
    else if (a == "--duration") o.duration = std::stod(v);
    else if (a == "--rate") o.rate = std::stod(v);
    else if (a == "--poll-ms") o.poll_ms = std::stoi(v);
    else if (a == "--timeout-ms") o.timeout_ms = std::stoi(v);
    else if (a == "--watch") o.watch = v;
    else if (a == "--trace") o.trace = v;
    else return false;
    return true;
  });
  if (o.mode != "closed" && o.mode != "open") usage("--mode is closed or open");
  if (o.watch.empty()) o.watch = std::getenv("BENCH_AMQP_PASSWORD") ? "amqp" : "poll";
  if (o.watch != "amqp" && o.watch != "poll") usage("--watch is amqp or poll");
  if (o.customer <= 0 || o.products.empty()) usage("--customer and --products are required");
  if (o.workers < 1 || o.workers > 512) usage("--workers must be in [1, 512]");
  if (o.duration <= 0 || o.duration > 3600) usage("--duration must be in (0, 3600]");
  if (o.rate <= 0 || o.rate > 100000) usage("--rate must be in (0, 100000]");
  if (o.poll_ms < 0 || o.poll_ms > 1000) usage("--poll-ms must be in [0, 1000]");
  return o;
}

}  // namespace bench::saga

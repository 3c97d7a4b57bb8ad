// bench_rate_load: an open-loop, constant-rate HTTP load generator (what wrk2 does, in the
// smallest form). Request i is scheduled at t0 + i/rate; its latency is measured from that
// scheduled time, not from when a connection was free to send it, so a server that stalls
// is charged for every request that queued behind the stall (no coordinated omission).
//
//   bench_rate_load --url http://127.0.0.1:8080 --path /products/1 --rate 2000
//                     --duration 10 --connections 32 [--timeout-ms 5000]
//                     [--header "Cache-Control: no-cache" ...]
//
// N threads, each with one keep-alive connection, take the next scheduled request; at most
// N requests are in flight. Bounded in time (duration + timeout) and in count (rate ×
// duration). Prints one JSON object on stdout.
#include <sys/prctl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"
#include "http_lite.hpp"
#include "stats.hpp"

namespace {

struct Options {
  std::string url = "http://127.0.0.1:8080";
  std::string path = "/products/1";
  double rate = 1000;
  double duration = 10;
  int connections = 32;
  int timeout_ms = 5000;
  std::string headers;  // extra header lines, CRLF-terminated
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_rate_load --url URL --path PATH --rate N --duration S "
               "[--connections N] [--timeout-ms MS] [--header 'Name: value' ...]\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  bench::parse_flags(argc, argv, usage, [&](const std::string& a, const std::string& v) {
    if (a == "--url") o.url = v;
    else if (a == "--path") o.path = v;
    else if (a == "--rate") o.rate = std::stod(v);
    else if (a == "--duration") o.duration = std::stod(v);
    else if (a == "--connections") o.connections = std::stoi(v);
    else if (a == "--timeout-ms") o.timeout_ms = std::stoi(v);
    else if (a == "--header") {
      if (v.find(':') == std::string::npos || v.find_first_of("\r\n") != std::string::npos) usage("--header wants 'Name: value'");
      o.headers += v + "\r\n";
    }
    else return false;
    return true;
  });
  if (o.rate <= 0 || o.rate > 1e6) usage("--rate must be in (0, 1e6]");
  if (o.duration <= 0 || o.duration > 3600) usage("--duration must be in (0, 3600]");
  if (o.connections < 1 || o.connections > 1024) usage("--connections must be in [1, 1024]");
  return o;
}

struct ThreadResult {
  std::vector<double> latency_ms;
  std::uint64_t non2xx = 0;
  std::uint64_t errors = 0;
  std::uint64_t late = 0;  // sent more than 1 ms after its scheduled time
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  bench::Url url;
  try {
    url = bench::parse_url(o.url);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  if (url.host.rfind("127.", 0) != 0) usage("only loopback targets are allowed");
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake up on time, not up to 50 µs late

  using clock = std::chrono::steady_clock;
  const auto total = static_cast<std::uint64_t>(o.rate * o.duration);
  const std::chrono::nanoseconds interval(static_cast<std::int64_t>(1e9 / o.rate));
  const std::string raw = bench::make_request("GET", o.path, url, {}, o.headers);

  std::atomic<std::uint64_t> next{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  clock::time_point t0;
  std::vector<ThreadResult> results(static_cast<std::size_t>(o.connections));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.connections; ++t) {
    threads.emplace_back([&, t] {
      ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
      ThreadResult& r = results[static_cast<std::size_t>(t)];
      r.latency_ms.reserve(total / static_cast<std::uint64_t>(o.connections) + 16);
      bench::Connection conn(url, o.timeout_ms);
      conn.connect();  // open before the clock starts; exchange() reconnects if this failed
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      bench::HttpResponse resp;
      for (;;) {
        const std::uint64_t i = next.fetch_add(1);
        if (i >= total) break;
        const auto scheduled = t0 + interval * static_cast<std::int64_t>(i);
        std::this_thread::sleep_until(scheduled);
        if (clock::now() - scheduled > std::chrono::milliseconds(1)) ++r.late;
        const bool ok = conn.exchange(raw, resp);
        const auto done = clock::now();
        if (!ok) {
          ++r.errors;
          continue;
        }
        if (resp.status < 200 || resp.status > 299) ++r.non2xx;
        r.latency_ms.push_back(std::chrono::duration<double, std::milli>(done - scheduled).count());
      }
    });
  }
  while (ready.load() < o.connections) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t0 = clock::now() + std::chrono::milliseconds(5);
  go.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(clock::now() - t0).count();

  std::vector<double> all;
  std::uint64_t non2xx = 0, errors = 0, late = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latency_ms.begin(), r.latency_ms.end());
    non2xx += r.non2xx;
    errors += r.errors;
    late += r.late;
  }
  std::string out = "{";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"target_rate\":%.1f,\"scheduled\":%llu,\"completed\":%zu,\"non2xx\":%llu,\"errors\":%llu,"
                "\"sent_late\":%llu,\"elapsed_s\":%.3f,\"achieved_rate\":%.1f,",
                o.rate, static_cast<unsigned long long>(total), all.size(), static_cast<unsigned long long>(non2xx),
                static_cast<unsigned long long>(errors), static_cast<unsigned long long>(late), elapsed,
                static_cast<double>(all.size()) / elapsed);
  out += buf;
  bench::append_latency(out, "latency", std::move(all));
  out += "}";
  std::cout << out << std::endl;
  return 0;
}

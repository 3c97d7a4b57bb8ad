// bench_saga_load: drives the order saga and measures POST /orders → CONFIRMED.
//
//   closed loop (saturation): N workers, each posts an order and waits until it leaves
//     PENDING, then posts the next; for `duration` seconds. Result: orders confirmed per
//     second within the window.
//   open loop (latency at a fixed rate): order i is scheduled at t0 + i/rate and posted by
//     the next free worker; latency counts from the scheduled time (no coordinated omission).
//
//   bench_saga_load --mode closed|open --post-url http://127.0.0.1:8080
//       --poll-url http://127.0.0.1:8002 --customer 7 --products 1,2,3
//       [--workers 16] [--duration 10] [--rate 100] [--poll-ms 2] [--timeout-ms 10000]
//
// Orders are posted through the gateway (as a client would); their status is polled with
// GET /orders/{id} every poll-ms straight at the order service, so the measurement's own
// traffic does not pass through (and compete in) the gateway. When the order's history
// carries the CONFIRMED transition's time (RFC 3339 with microseconds), the latency uses it
// (the server's clock is this machine's clock); the poll-observed latency is reported too
// and is the conservative number (it adds up to one poll interval plus one GET).
// Bounded: duration, plus at most timeout-ms for the last orders. One JSON object on stdout.
#include <sys/prctl.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "http_lite.hpp"
#include "stats.hpp"

namespace {

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
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_saga_load --mode closed|open --customer ID --products ID,ID "
               "[--post-url URL] [--poll-url URL] [--workers N] [--duration S] [--rate R] [--poll-ms MS] "
               "[--timeout-ms MS]\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--mode") o.mode = next();
    else if (a == "--post-url") o.post_url = next();
    else if (a == "--poll-url") o.poll_url = next();
    else if (a == "--customer") o.customer = std::stoll(next());
    else if (a == "--products") {
      std::string list = next();
      std::size_t p = 0;
      while (p < list.size()) {
        auto c = list.find(',', p);
        o.products.push_back(std::stoll(list.substr(p, c - p)));
        if (c == std::string::npos) break;
        p = c + 1;
      }
    } else if (a == "--workers") o.workers = std::stoi(next());
    else if (a == "--duration") o.duration = std::stod(next());
    else if (a == "--rate") o.rate = std::stod(next());
    else if (a == "--poll-ms") o.poll_ms = std::stoi(next());
    else if (a == "--timeout-ms") o.timeout_ms = std::stoi(next());
    else usage(("unknown argument " + a).c_str());
  }
  if (o.mode != "closed" && o.mode != "open") usage("--mode is closed or open");
  if (o.customer <= 0 || o.products.empty()) usage("--customer and --products are required");
  if (o.workers < 1 || o.workers > 512) usage("--workers must be in [1, 512]");
  if (o.duration <= 0 || o.duration > 3600) usage("--duration must be in (0, 3600]");
  if (o.rate <= 0 || o.rate > 100000) usage("--rate must be in (0, 100000]");
  if (o.poll_ms < 0 || o.poll_ms > 1000) usage("--poll-ms must be in [0, 1000]");
  return o;
}

// "2026-11-25T08:31:55.534781Z" → µs since the epoch; -1 if it is not that shape.
std::int64_t parse_rfc3339_us(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[10] != 'T') return -1;
  std::tm tm{};
  auto num = [&](std::size_t pos, std::size_t len) { return std::atoi(std::string(s.substr(pos, len)).c_str()); };
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  std::int64_t us = static_cast<std::int64_t>(timegm(&tm)) * 1'000'000;
  if (s.size() > 20 && s[19] == '.') {
    std::size_t p = 20;
    std::int64_t frac = 0;
    int digits = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (digits < 6) {
        frac = frac * 10 + (s[p] - '0');
        ++digits;
      }
      ++p;
    }
    while (digits < 6) {
      frac *= 10;
      ++digits;
    }
    us += frac;
  }
  return us;
}

enum class Outcome { PostFailed, PostNon2xx, Confirmed, Rejected, OtherStatus, TimedOut };

struct OrderResult {
  Outcome outcome = Outcome::PostFailed;
  std::int64_t start_us = 0;         // scheduled (open loop) or sent (closed loop), wall clock
  std::int64_t observed_us = 0;      // when a poll first saw it leave PENDING
  std::int64_t server_confirmed_us = -1;  // the history's CONFIRMED time, if given
  int polls = 0;
};

struct Worker {
  Worker(const Options& o, const bench::Url& post, const bench::Url& poll)
      : opts(o), post_url(post), poll_url(poll), post_conn(post, 5000), poll_conn(poll, 5000) {}

  // Posts one order and follows it until it leaves PENDING (or timeout).
  OrderResult place(std::int64_t start_us, std::size_t seq) {
    OrderResult r;
    r.start_us = start_us;
    const auto product = opts.products[seq % opts.products.size()];
    const std::string body = "{\"customer_id\":" + std::to_string(opts.customer) + ",\"items\":[{\"product_id\":" +
                             std::to_string(product) + ",\"quantity\":1}]}";
    bench::HttpResponse resp;
    if (!post_conn.exchange(bench::make_request("POST", "/orders", post_url, body), resp)) return r;
    if (resp.status != 201) {
      r.outcome = Outcome::PostNon2xx;
      if (post_non2xx_samples < 3) {
        std::fprintf(stderr, "POST /orders → %d %s\n", resp.status, resp.body.substr(0, 300).c_str());
        ++post_non2xx_samples;
      }
      return r;
    }
    std::int64_t id = 0;
    std::string status;
    try {
      auto v = boost::json::parse(resp.body);
      id = v.at("id").to_number<std::int64_t>();
      status = std::string(v.at("status").as_string());
    } catch (const std::exception&) {
      r.outcome = Outcome::PostNon2xx;
      return r;
    }
    const std::string get = bench::make_request("GET", "/orders/" + std::to_string(id), poll_url);
    const std::int64_t deadline = bench::wall_us() + std::int64_t{opts.timeout_ms} * 1000;
    for (;;) {
      if (status != "PENDING") break;
      if (bench::wall_us() > deadline) {
        r.outcome = Outcome::TimedOut;
        return r;
      }
      if (opts.poll_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opts.poll_ms));
      ++r.polls;
      if (!poll_conn.exchange(get, resp) || resp.status != 200) continue;
      try {
        auto v = boost::json::parse(resp.body);
        status = std::string(v.at("status").as_string());
        if (status == "CONFIRMED" || status == "PAID" || status == "SHIPPED" || status == "DELIVERED") {
          if (auto* h = v.as_object().if_contains("history"); h && h->is_array())
            for (auto& e : h->as_array())
              if (e.is_object() && e.as_object().contains("status") && e.at("status") == "CONFIRMED")
                if (auto* at = e.as_object().if_contains("at"); at && at->is_string())
                  r.server_confirmed_us = parse_rfc3339_us(at->as_string());
        }
      } catch (const std::exception&) {
        continue;
      }
    }
    r.observed_us = bench::wall_us();
    r.outcome = status == "CONFIRMED" || status == "PAID" || status == "SHIPPED" || status == "DELIVERED"
                    ? Outcome::Confirmed
                : status == "REJECTED" ? Outcome::Rejected
                                       : Outcome::OtherStatus;
    return r;
  }

  const Options& opts;
  bench::Url post_url, poll_url;
  bench::Connection post_conn, poll_conn;
  std::vector<OrderResult> results;
  int post_non2xx_samples = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  bench::Url post, poll;
  try {
    post = bench::parse_url(o.post_url);
    poll = bench::parse_url(o.poll_url);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  if (post.host.rfind("127.", 0) != 0 || poll.host.rfind("127.", 0) != 0) usage("only loopback targets are allowed");
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  using clock = std::chrono::steady_clock;
  const auto duration = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.duration));
  const std::uint64_t total = o.mode == "open" ? static_cast<std::uint64_t>(o.rate * o.duration) : UINT64_MAX;
  const std::chrono::nanoseconds interval(static_cast<std::int64_t>(1e9 / o.rate));

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < o.workers; ++i) workers.push_back(std::make_unique<Worker>(o, post, poll));
  std::atomic<std::uint64_t> next{0};
  const auto t0 = clock::now() + std::chrono::milliseconds(5);
  const std::int64_t t0_wall = bench::wall_us() + 5000;
  const auto t_end = t0 + duration;
  const std::int64_t t_end_wall = t0_wall + std::chrono::duration_cast<std::chrono::microseconds>(duration).count();

  std::vector<std::thread> threads;
  for (auto& wp : workers) {
    threads.emplace_back([&, w = wp.get()] {
      ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
      std::this_thread::sleep_until(t0);
      for (;;) {
        const std::uint64_t i = next.fetch_add(1);
        if (i >= total) break;
        std::int64_t start_us;
        if (o.mode == "open") {
          const auto offset = interval * static_cast<std::int64_t>(i);
          std::this_thread::sleep_until(t0 + offset);
          start_us = t0_wall + std::chrono::duration_cast<std::chrono::microseconds>(offset).count();
        } else {
          if (clock::now() >= t_end) break;
          start_us = bench::wall_us();
        }
        w->results.push_back(w->place(start_us, i));
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = static_cast<double>(bench::wall_us() - t0_wall) / 1e6;

  std::uint64_t posted = 0, post_failed = 0, post_non2xx = 0, confirmed = 0, rejected = 0, other = 0, timed_out = 0,
                confirmed_in_window = 0, polls = 0, server_times = 0;
  std::vector<double> observed_ms, server_ms;
  for (auto& w : workers) {
    for (auto& r : w->results) {
      ++posted;
      polls += static_cast<std::uint64_t>(r.polls);
      switch (r.outcome) {
        case Outcome::PostFailed: ++post_failed; break;
        case Outcome::PostNon2xx: ++post_non2xx; break;
        case Outcome::Rejected: ++rejected; break;
        case Outcome::OtherStatus: ++other; break;
        case Outcome::TimedOut: ++timed_out; break;
        case Outcome::Confirmed: {
          ++confirmed;
          const std::int64_t when = r.server_confirmed_us > 0 ? r.server_confirmed_us : r.observed_us;
          if (when <= t_end_wall) ++confirmed_in_window;
          observed_ms.push_back(static_cast<double>(r.observed_us - r.start_us) / 1000.0);
          if (r.server_confirmed_us > 0) {
            ++server_times;
            server_ms.push_back(static_cast<double>(r.server_confirmed_us - r.start_us) / 1000.0);
          }
          break;
        }
      }
    }
  }
  const double window = o.duration;
  std::string out = "{";
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "\"mode\":\"%s\",\"workers\":%d,\"duration_s\":%.3f,\"elapsed_s\":%.3f,\"target_rate\":%.1f,"
                "\"posted\":%llu,\"post_errors\":%llu,\"post_non2xx\":%llu,\"confirmed\":%llu,\"rejected\":%llu,"
                "\"other_status\":%llu,\"timed_out\":%llu,\"confirmed_in_window\":%llu,\"orders_per_s\":%.2f,"
                "\"polls\":%llu,\"poll_ms\":%d,\"server_timestamps\":%llu,",
                o.mode.c_str(), o.workers, window, elapsed, o.mode == "open" ? o.rate : 0.0,
                static_cast<unsigned long long>(posted), static_cast<unsigned long long>(post_failed),
                static_cast<unsigned long long>(post_non2xx), static_cast<unsigned long long>(confirmed),
                static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(other),
                static_cast<unsigned long long>(timed_out), static_cast<unsigned long long>(confirmed_in_window),
                static_cast<double>(confirmed_in_window) / window, static_cast<unsigned long long>(polls), o.poll_ms,
                static_cast<unsigned long long>(server_times));
  out += buf;
  bench::append_latency(out, "observed", std::move(observed_ms));
  out += ",";
  bench::append_latency(out, "server", std::move(server_ms));
  out += "}";
  std::cout << out << std::endl;
  return 0;
}

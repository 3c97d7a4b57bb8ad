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
//       [--trace orders.csv]
//
// How the tool learns that an order left PENDING (--watch):
//   amqp (default when BENCH_AMQP_PASSWORD is set): a private, exclusive queue bound to
//     order.confirmed and order.rejected on the sales.events exchange (DESIGN §4); the
//     latency ends when the event arrives, and the event's occurred_at (written in the
//     transaction that confirmed the order) gives the server-side time. No polling and no
//     read of the order: the measurement adds nothing to the saga but one delivery.
//     Environment: BENCH_AMQP_HOST (127.0.0.1), BENCH_AMQP_PORT (5672), BENCH_AMQP_USER,
//     BENCH_AMQP_PASSWORD.
//   poll: as below.
// Orders are posted through the gateway (as a client would); their status is polled with
// GET /orders/{id} every poll-ms straight at the order service, so the measurement's own
// traffic does not pass through (and compete in) the gateway; the interval grows to a tenth
// of the order's age (at most 20 ms), so a slow saga is not buried under polls. When the order's history
// carries the CONFIRMED transition's time (RFC 3339 with microseconds), the latency uses it
// (the server's clock is this machine's clock); the poll-observed latency is reported too
// and is the conservative number (it adds up to one poll interval plus one GET).
// Bounded: duration, plus at most timeout-ms for the last orders. One JSON object on stdout.
// --trace writes one CSV line per order (times in ms from the first scheduled start): when
// it started, when the POST was answered, when it was confirmed (server) and seen, and its
// outcome; so a tail can be told apart as stalls (slow orders bunched in time) or queueing.
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "event_watch.hpp"
#include "http_lite.hpp"
#include "saga_options.hpp"
#include "saga_time.hpp"
#include "stats.hpp"

namespace {

using namespace bench::saga;

enum class Outcome { PostFailed, PostNon2xx, Confirmed, Rejected, OtherStatus, TimedOut };

struct OrderResult {
  Outcome outcome = Outcome::PostFailed;
  std::int64_t start_us = 0;         // scheduled (open loop) or sent (closed loop), wall clock
  std::int64_t answered_us = 0;      // when the POST was answered
  std::int64_t observed_us = 0;      // when a poll first saw it leave PENDING
  std::int64_t server_confirmed_us = -1;  // the history's CONFIRMED time, if given
  int polls = 0;
};
EventWatch* g_watch = nullptr;  // set in --watch amqp

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
    r.answered_us = bench::wall_us();
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
    const std::int64_t deadline = bench::wall_us() + std::int64_t{opts.timeout_ms} * 1000;
    if (g_watch) {
      auto seen = g_watch->wait(id, deadline);
      if (!seen) {
        r.outcome = Outcome::TimedOut;
        return r;
      }
      r.observed_us = seen->at_us;
      r.outcome = seen->confirmed ? Outcome::Confirmed : Outcome::Rejected;
      if (seen->confirmed) r.server_confirmed_us = seen->occurred_us;
      return r;
    }
    const std::string get = bench::make_request("GET", "/orders/" + std::to_string(id), poll_url);
    for (;;) {
      if (status != "PENDING") break;
      if (bench::wall_us() > deadline) {
        r.outcome = Outcome::TimedOut;
        return r;
      }
      // Poll every poll_ms while the order is young, then every tenth of its age (at most
      // 20 ms): the overshoot stays under ~10 %, and at saturation, where orders wait long,
      // the polls do not become the load being measured.
      const std::int64_t age_us = bench::wall_us() - r.start_us;
      const std::int64_t sleep_us = std::max<std::int64_t>(std::int64_t{opts.poll_ms} * 1000,
                                                           std::min<std::int64_t>(age_us / 10, 20'000));
      if (sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
      ++r.polls;
      if (!poll_conn.exchange(get, resp) || resp.status != 200) continue;
      try {
        auto v = boost::json::parse(resp.body);
        status = std::string(v.at("status").as_string());
        if (status == "CONFIRMED" || status == "PAID" || status == "SHIPPED" || status == "DELIVERED")
          r.server_confirmed_us = confirmed_at(v);
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

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::PostFailed: return "post_failed";
    case Outcome::PostNon2xx: return "post_non2xx";
    case Outcome::Confirmed: return "confirmed";
    case Outcome::Rejected: return "rejected";
    case Outcome::OtherStatus: return "other_status";
    case Outcome::TimedOut: return "timed_out";
  }
  return "?";
}

// One line per order, sorted by start; an unknown time is empty. False if a write failed.
bool write_trace(std::FILE* f, const std::vector<std::unique_ptr<Worker>>& workers, std::int64_t t0_us) {
  std::vector<const OrderResult*> all;
  for (const auto& w : workers)
    for (const auto& r : w->results) all.push_back(&r);
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->start_us < b->start_us; });
  const auto ms = [t0_us](std::int64_t us) { return us > 0 ? std::to_string(static_cast<double>(us - t0_us) / 1000.0) : ""; };
  std::fprintf(f, "start_ms,answered_ms,confirmed_ms,seen_ms,outcome\n");
  for (const auto* r : all)
    std::fprintf(f, "%s,%s,%s,%s,%s\n", ms(r->start_us).c_str(), ms(r->answered_us).c_str(),
                 ms(r->server_confirmed_us).c_str(), ms(r->observed_us).c_str(), outcome_name(r->outcome));
  return !std::ferror(f);
}

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

  // Opened before the run, so a path that cannot be written costs no run.
  std::FILE* trace = nullptr;
  if (!o.trace.empty() && !(trace = std::fopen(o.trace.c_str(), "w"))) {
    std::fprintf(stderr, "error: cannot write the trace to %s: %s\n", o.trace.c_str(), std::strerror(errno));
    return 1;
  }

  EventWatch watch;
  if (o.watch == "amqp") {
    try {
      watch.start();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
    g_watch = &watch;
  }

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
  watch.stop();
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
  bool traced = true;
  if (trace) {
    traced = write_trace(trace, workers, t0_wall);
    traced = std::fclose(trace) == 0 && traced;
  }
  if (!traced) std::fprintf(stderr, "error: could not write the trace to %s\n", o.trace.c_str());
  const double window = o.duration;
  std::string out = "{";
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "\"mode\":\"%s\",\"workers\":%d,\"duration_s\":%.3f,\"elapsed_s\":%.3f,\"target_rate\":%.1f,"
                "\"posted\":%llu,\"post_errors\":%llu,\"post_non2xx\":%llu,\"confirmed\":%llu,\"rejected\":%llu,"
                "\"other_status\":%llu,\"timed_out\":%llu,\"confirmed_in_window\":%llu,\"orders_per_s\":%.2f,"
                "\"polls\":%llu,\"poll_ms\":%d,\"server_timestamps\":%llu,\"watch\":\"%s\",",
                o.mode.c_str(), o.workers, window, elapsed, o.mode == "open" ? o.rate : 0.0,
                static_cast<unsigned long long>(posted), static_cast<unsigned long long>(post_failed),
                static_cast<unsigned long long>(post_non2xx), static_cast<unsigned long long>(confirmed),
                static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(other),
                static_cast<unsigned long long>(timed_out), static_cast<unsigned long long>(confirmed_in_window),
                static_cast<double>(confirmed_in_window) / window, static_cast<unsigned long long>(polls), o.poll_ms,
                static_cast<unsigned long long>(server_times), o.watch.c_str());
  out += buf;
  bench::append_latency(out, "observed", std::move(observed_ms));
  out += ",";
  bench::append_latency(out, "server", std::move(server_ms));
  out += "}";
  std::cout << out << std::endl;
  return traced ? 0 : 1;
}

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
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"
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
  std::string watch;  // amqp | poll; default: amqp when BENCH_AMQP_PASSWORD is set
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_saga_load --mode closed|open --customer ID --products ID,ID "
               "[--post-url URL] [--poll-url URL] [--workers N] [--duration S] [--rate R] [--poll-ms MS] "
               "[--timeout-ms MS] [--watch amqp|poll]\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
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

// The time of the CONFIRMED entry in an order's history, µs since the epoch, or -1.
std::int64_t confirmed_at(const boost::json::value& order) {
  if (!order.is_object()) return -1;
  if (auto* h = order.as_object().if_contains("history"); h && h->is_array())
    for (auto& e : h->as_array())
      if (e.is_object() && e.as_object().contains("status") && e.at("status") == "CONFIRMED")
        if (auto* at = e.as_object().if_contains("at"); at && at->is_string()) return parse_rfc3339_us(at->as_string());
  return -1;
}

enum class Outcome { PostFailed, PostNon2xx, Confirmed, Rejected, OtherStatus, TimedOut };

struct OrderResult {
  Outcome outcome = Outcome::PostFailed;
  std::int64_t start_us = 0;         // scheduled (open loop) or sent (closed loop), wall clock
  std::int64_t observed_us = 0;      // when a poll first saw it leave PENDING
  std::int64_t server_confirmed_us = -1;  // the history's CONFIRMED time, if given
  int polls = 0;
};

// Orders that left PENDING, as told by order.confirmed / order.rejected events.
class EventWatch {
 public:
  struct Seen {
    bool confirmed;
    std::int64_t at_us;        // arrival here
    std::int64_t occurred_us;  // the envelope's occurred_at, or -1
  };

  // Connects, declares an exclusive auto-delete queue and binds it; throws on failure.
  void start() {
    auto env = [](const char* k, const char* d) {
      const char* v = std::getenv(k);
      return std::string(v && *v ? v : d);
    };
    const std::string host = env("BENCH_AMQP_HOST", "127.0.0.1");
    if (host.rfind("127.", 0) != 0) throw std::runtime_error("BENCH_AMQP_HOST must be loopback");
    conn_ = amqp_new_connection();
    amqp_socket_t* sock = amqp_tcp_socket_new(conn_);
    if (!sock || amqp_socket_open(sock, host.c_str(), std::stoi(env("BENCH_AMQP_PORT", "5672"))) != AMQP_STATUS_OK)
      throw std::runtime_error("cannot connect to RabbitMQ");
    check(amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, env("BENCH_AMQP_USER", "sales").c_str(),
                     env("BENCH_AMQP_PASSWORD", "").c_str()),
          "login");
    amqp_channel_open(conn_, 1);
    check(amqp_get_rpc_reply(conn_), "channel.open");
    amqp_queue_declare_ok_t* q = amqp_queue_declare(conn_, 1, amqp_empty_bytes, 0, 0, /*exclusive=*/1,
                                                    /*auto_delete=*/1, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "queue.declare");
    amqp_bytes_t queue = amqp_bytes_malloc_dup(q->queue);
    for (const char* key : {"order.confirmed", "order.rejected"}) {
      amqp_queue_bind(conn_, 1, queue, amqp_cstring_bytes("sales.events"), amqp_cstring_bytes(key), amqp_empty_table);
      check(amqp_get_rpc_reply(conn_), "queue.bind (does the sales.events exchange exist?)");
    }
    amqp_basic_consume(conn_, 1, queue, amqp_empty_bytes, 0, /*no_ack=*/1, 1, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "basic.consume");
    amqp_bytes_free(queue);
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (conn_) {
      amqp_channel_close(conn_, 1, AMQP_REPLY_SUCCESS);
      amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
      amqp_destroy_connection(conn_);
      conn_ = nullptr;
    }
  }

  // Waits until the order's event arrived (or the deadline, wall µs, passed). Each waiter
  // has its own condition variable: one event wakes the one thread that waits for it, not
  // every worker (with 128 workers a shared one cost the tool ~200 µs of CPU per order,
  // taken from the system it measures).
  std::optional<Seen> wait(std::int64_t id, std::int64_t deadline_us) {
    std::unique_lock lock(mu_);
    if (auto it = seen_.find(id); it != seen_.end()) {
      Seen s = it->second;
      seen_.erase(it);
      return s;
    }
    Waiter w;
    waiting_.emplace(id, &w);
    for (;;) {
      const std::int64_t left = deadline_us - bench::wall_us();
      if (w.seen || left <= 0 || failed_) break;
      w.cv.wait_for(lock, std::chrono::microseconds(std::min<std::int64_t>(left, 100'000)));
    }
    waiting_.erase(id);
    return w.seen;
  }

  std::uint64_t events() const { return events_; }

 private:
  static void check(amqp_rpc_reply_t r, const char* what) {
    if (r.reply_type != AMQP_RESPONSE_NORMAL) throw std::runtime_error(std::string("RabbitMQ: ") + what + " failed");
  }

  void run() {
    while (!stop_) {
      amqp_envelope_t env;
      amqp_maybe_release_buffers(conn_);
      timeval tv{0, 100'000};
      amqp_rpc_reply_t r = amqp_consume_message(conn_, &env, &tv, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) continue;
        std::fprintf(stderr, "RabbitMQ consumer stopped (reply type %d)\n", static_cast<int>(r.reply_type));
        std::lock_guard lock(mu_);
        failed_ = true;
        for (auto& [id, w] : waiting_) w->cv.notify_one();
        return;
      }
      const std::int64_t now = bench::wall_us();
      const std::string key(static_cast<const char*>(env.routing_key.bytes), env.routing_key.len);
      const std::string_view body(static_cast<const char*>(env.message.body.bytes), env.message.body.len);
      std::int64_t id = 0, occurred_us = -1;
      try {
        auto v = boost::json::parse(body);
        id = v.at("data").at("order_id").to_number<std::int64_t>();
        if (auto* at = v.as_object().if_contains("occurred_at"); at && at->is_string())
          occurred_us = parse_rfc3339_us(at->as_string());
      } catch (const std::exception&) {
      }
      amqp_destroy_envelope(&env);
      if (id <= 0) continue;
      ++events_;
      const Seen seen{key == "order.confirmed", now, occurred_us};
      std::lock_guard lock(mu_);
      if (auto it = waiting_.find(id); it != waiting_.end()) {
        it->second->seen = seen;
        it->second->cv.notify_one();
      } else {
        seen_.emplace(id, seen);  // arrived before its worker asked (the POST's answer was slower)
      }
    }
  }

  amqp_connection_state_t conn_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> events_{0};
  struct Waiter {
    std::condition_variable cv;
    std::optional<Seen> seen;
  };
  std::mutex mu_;
  std::unordered_map<std::int64_t, Seen> seen_;       // events nobody waits for yet
  std::unordered_map<std::int64_t, Waiter*> waiting_;  // order id → the worker waiting for it
  bool failed_ = false;
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
  return 0;
}

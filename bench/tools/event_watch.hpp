#pragma once
// The saga tool's --watch amqp: a private queue on the sales.events exchange that tells the
// workers when their orders left PENDING.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

#include "http_lite.hpp"
#include "saga_time.hpp"

namespace bench::saga {

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

}  // namespace bench::saga

#pragma once
// What the AMQP and events integration tests need from the environment `./sales test`
// exports, plus throwaway names so concurrent runs never share a queue or an exchange.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sales/amqp/connection.hpp"
#include "sales/amqp/topology.hpp"
#include "sales_test/env.hpp"
#include "sales_test/eventually.hpp"

namespace sales::testing {

inline std::optional<std::string> env_var(const char* name) { return sales_test::optional_env(name); }

inline constexpr const char* kRunViaSalesTest =
    " is not set: run the tests via `./sales test` (it starts RabbitMQ and PostgreSQL and exports it)";

// nullopt (with `missing` naming the variable) when the environment is incomplete.
inline std::optional<amqp::ConnectionParams> amqp_params_from_env(std::string& missing) {
  amqp::ConnectionParams p;
  for (const char* name : {"SALES_AMQP_HOST", "SALES_AMQP_PORT", "SALES_AMQP_USER", "SALES_AMQP_PASSWORD"}) {
    if (!env_var(name)) {
      missing = name;
      return std::nullopt;
    }
  }
  p.host = *env_var("SALES_AMQP_HOST");
  p.port = std::stoi(*env_var("SALES_AMQP_PORT"));
  p.user = *env_var("SALES_AMQP_USER");
  p.password = *env_var("SALES_AMQP_PASSWORD");
  p.connect_timeout = std::chrono::milliseconds(3000);
  p.rpc_timeout = std::chrono::milliseconds(5000);
  return p;
}

inline std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (int i = 0; i < 10; ++i) s.push_back(digits[rng() % 36]);
  return s;
}

// Exchanges unique to one test, so its bindings see only its own messages.
inline amqp::Topology unique_topology(const std::string& suffix) {
  return amqp::Topology{"test.events." + suffix, "test.dlx." + suffix};
}

using sales_test::eventually;

// Reads up to `count` messages from `queue` (acking each) within `timeout`.
inline std::vector<amqp::Delivery> drain(amqp::Connection& conn, const std::string& queue, std::size_t count,
                                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  std::vector<amqp::Delivery> out;
  conn.consume(queue, 100);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    if (auto d = conn.next_delivery(std::chrono::milliseconds(100))) {
      conn.ack(d->delivery_tag);
      out.push_back(std::move(*d));
    }
  }
  return out;
}

// Removes a test's queues and exchanges at the end, even when an assertion failed.
class TopologyCleanup {
 public:
  TopologyCleanup(amqp::ConnectionParams params, amqp::Topology topology)
      : params_(std::move(params)), topology_(std::move(topology)) {}
  ~TopologyCleanup() {
    try {
      amqp::Connection conn(params_);
      conn.connect();
      for (const auto& q : queues_) amqp::delete_consumer_topology(conn, q);
      conn.delete_exchange(topology_.events_exchange);
      conn.delete_exchange(topology_.dead_letter_exchange);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup of test topology failed: " << e.what();
    }
  }
  void add_queue(const std::string& q) { queues_.push_back(q); }

 private:
  amqp::ConnectionParams params_;
  amqp::Topology topology_;
  std::vector<std::string> queues_;
};

}  // namespace sales::testing

#pragma once
// The one shape of every service: configuration from the environment (validated at
// start), logs, metrics, health endpoints, a database pool with migrations applied in the
// background (the service starts, and reports not-ready, while PostgreSQL is down), then
// the HTTP server until SIGTERM/SIGINT.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sales/config/config.hpp"
#include "sales/http/router.hpp"
#include "sales/http/server.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace sales::service {

struct BrokerSettings {
  std::string host;
  int port = 5672;
  std::string user;
  std::string password;
  std::string vhost = "/";
};
// RABBITMQ_HOST, RABBITMQ_PORT, RABBITMQ_USER, RABBITMQ_PASSWORD, RABBITMQ_VHOST: the services'
// broker, and the tools' (tools/dlq).
BrokerSettings read_broker_settings(config::Env& env);

struct Options {
  std::string name;       // "product"
  int default_port = 0;   // 8001
  bool uses_database = true;
  bool uses_broker = false;
  int default_threads = 8;  // handlers block on the database: more threads than cores
};

class App {
 public:
  explicit App(Options opts);
  ~App();

  config::Env& env() { return env_; }  // read service-specific variables before run()
  http::Router& router() { return router_; }
  metrics::Registry& metrics() { return metrics::global(); }
  pg::Pool& db();  // in database.cpp: a binary that never calls it links no libpq
  [[nodiscard]] const BrokerSettings& broker() const { return broker_; }
  [[nodiscard]] const std::string& name() const { return opts_.name; }

  void set_migrations(std::vector<pg::Migration> m) { migrations_ = std::move(m); }
  // Extra readiness conditions, reported by /health/ready ("up" or "down"). The one named
  // kBrokerCheck (the relay's and consumer's connections) does not count for
  // `GET /health/ready?broker=optional`, and is "unknown" while the database is down.
  void add_ready_check(std::string name, std::function<bool()> check);
  static constexpr std::string_view kBrokerCheck = "broker";
  // Runs once the database is migrated (start consumers and relays here).
  void on_database_ready(std::function<void()> fn) { on_ready_.push_back(std::move(fn)); }
  void on_stop(std::function<void()> fn) { on_stop_.push_back(std::move(fn)); }
  // A count of work done outside HTTP (events): while it grows the service is not quiet,
  // and its freed heap is given back only once it stops (ServerOptions::other_work).
  void count_work(std::function<std::uint64_t()> count) { work_counts_.push_back(std::move(count)); }

  // Serves the router until SIGTERM or SIGINT; returns the process exit code.
  int run();
  // For a service with its own server (the gateway): validate() first, then serve().
  bool validate();  // false (after printing why) when the configuration is invalid
  [[nodiscard]] const http::ServerOptions& server_options() const { return server_; }
  int serve(std::unique_ptr<http::Server> server);

 private:
  void prepare_database();
  void open_connections_at_start();
  void add_health_routes();
  http::Response ready_response(bool broker_optional);

  Options opts_;
  config::Env env_;
  http::Router router_;
  http::ServerOptions server_;
  BrokerSettings broker_;
  std::uint64_t log_max_bytes_ = 0;
  // shared_ptr: its deleter comes from database.cpp, so App itself refers to no pg code.
  std::shared_ptr<pg::Pool> pool_;
  std::vector<pg::Migration> migrations_;
  std::vector<std::pair<std::string, std::function<bool()>>> ready_checks_;
  std::vector<std::function<void()>> on_ready_;
  std::vector<std::function<void()>> on_stop_;
  std::vector<std::function<std::uint64_t()>> work_counts_;
  std::atomic<bool> database_ready_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace sales::service

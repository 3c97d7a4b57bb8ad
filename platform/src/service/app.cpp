#include "sales/service/app.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <fmt/format.h>

#include "sales/http/server.hpp"
#include "sales/json/writer.hpp"
#include "sales/events/envelope.hpp"
#include "sales/log/log.hpp"
#include "sales/log/rotation.hpp"
#include "sales/net/loopback.hpp"
#include "sales/problem/problem.hpp"
#include "sales/service/open_files.hpp"
#include "sales/service/periodic.hpp"

// Weak: linked only into binaries that use the database (see database.hpp).
#define SALES_DATABASE_HOOK [[gnu::weak]]
#include "database.hpp"

namespace sales::service {

App::App(Options opts) : opts_(std::move(opts)), env_(config::Env::load()) {
  std::string level = env_.str("LOG_LEVEL", "info");
  if (!log::is_level(level)) env_.invalid("LOG_LEVEL='" + level + "' is not one of " + std::string(log::kLevels));
  log::init(opts_.name, level);
  // LOG_MAX_MB: a log written to a file (stderr, as ./sales starts services) is rotated
  // past this size while the service runs (log/rotation.hpp).
  log_max_bytes_ = static_cast<std::uint64_t>(env_.integer("LOG_MAX_MB", 64, 1, 999999)) << 20;
  server_.service = opts_.name;
  server_.port = static_cast<std::uint16_t>(env_.integer("PORT", opts_.default_port, 0, 65535));
  server_.host = env_.str("BIND_HOST", "127.0.0.1");
  if (!net::is_ip_address(server_.host)) {
    env_.invalid("BIND_HOST='" + server_.host + "' is not an IP address to listen on (127.0.0.1, 0.0.0.0, ::, or one of this host's)");
  }
  server_.threads = static_cast<int>(env_.integer("HTTP_THREADS", opts_.default_threads, 1, 256));
  // Whatever set it (environment, .env or the default): operators, and the benchmark's
  // nginx, which gets as many workers as the gateway has event loops, read it here.
  metrics().gauge("http_server_threads", "Threads serving HTTP (the gateway: event loops)").set(server_.threads);
  server_.body_limit = static_cast<std::size_t>(env_.integer("MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20));
  const auto wanted = static_cast<std::size_t>(env_.integer("HTTP_MAX_CONNECTIONS", 4096, 1, 1'000'000));
  const std::uint64_t open_files = raise_open_files_limit();
  server_.max_connections = connections_within(wanted, open_files);
  if (server_.max_connections < wanted) {
    log::warn("HTTP_MAX_CONNECTIONS={} lowered to {}: this process may open {} descriptors (ulimit -n, hard limit) and "
              "keeps half of them for its other connections; raise the hard limit to hold more",
              wanted, server_.max_connections, open_files);
  }
  metrics().gauge("http_max_connections", "Client connections the server holds at most; more are answered 503 and closed")
      .set(static_cast<double>(server_.max_connections));
#ifdef __GLIBC__
  // glibc keeps what a burst freed: trimmed only from the top of each arena, the rest stayed
  // resident (order: ~1 MB after a saga load). Once quiet, hand the free pages back.
  server_.on_quiet = [] { ::malloc_trim(0); };
#endif
  if (opts_.uses_database) {
    pg::PoolOptions po;
    database::Settings db;
    db.host = env_.str("DB_HOST", "127.0.0.1");
    db.port = static_cast<int>(env_.integer("DB_PORT", 5432, 1, 65535));
    db.user = env_.required("DB_USER");
    db.password = env_.str("DB_PASSWORD", "");
    db.name = env_.required("DB_NAME");
    po.size = static_cast<std::size_t>(env_.integer("DB_POOL_SIZE", server_.threads + 4, 1, 1000));
    po.open_at_start = static_cast<std::size_t>(env_.integer("DB_POOL_OPEN_AT_START", static_cast<std::int64_t>(po.size), 0,
                                                             static_cast<std::int64_t>(po.size)));
    po.statement_timeout = env_.millis("DB_STATEMENT_TIMEOUT_MS", po.statement_timeout.count(), 100, 600000);
    po.tcp_user_timeout = env_.millis("DB_TCP_USER_TIMEOUT_MS", po.tcp_user_timeout.count(), 500, 600000);
    if (!database::open) {
      throw std::logic_error("sales-" + opts_.name + " uses a database but never calls App::db(), so the "
                             "platform's database code is not linked into it");
    }
    pool_ = database::open(db, po);
  }
  if (opts_.uses_broker) broker_ = read_broker_settings(env_);
}

BrokerSettings read_broker_settings(config::Env& env) {
  BrokerSettings b;
  b.host = env.str("RABBITMQ_HOST", "127.0.0.1");
  b.port = static_cast<int>(env.integer("RABBITMQ_PORT", 5672, 1, 65535));
  b.user = env.str("RABBITMQ_USER", "guest");
  b.password = env.str("RABBITMQ_PASSWORD", "guest");
  // RabbitMQ lets its guest user in from localhost only: a remote broker with the user left
  // unset would refuse every connection while the service looked healthy (its readiness
  // does not wait for the broker), so that is a configuration error. Naming guest on
  // purpose still works, for a broker that allows it.
  if (!net::is_loopback_host(b.host) && env.get("RABBITMQ_USER").value_or("").empty()) {
    env.invalid("RABBITMQ_USER is not set: the broker's default guest user connects only from localhost, and "
                "RABBITMQ_HOST=" + b.host + " is not");
  }
  b.vhost = env.str("RABBITMQ_VHOST", "/");
  return b;
}

App::~App() = default;

void App::add_ready_check(std::string name, std::function<bool()> check) {
  ready_checks_.emplace_back(std::move(name), std::move(check));
}

// Retries with capped backoff until the database answers and the schema is current.
void App::prepare_database() {
  auto delay = std::chrono::milliseconds(250);
  while (!stopping_) {
    try {
      int applied = database::migrate(*pool_, migrations_, stopping_);
      log::info("database ready ({} migrations applied now)", applied);
      open_connections_at_start();
      database_ready_ = true;
      for (auto& fn : on_ready_) fn();
      return;
    } catch (const pg::MigrationStopped& e) {
      log::info("database not prepared: {}", e.what());
      return;
    } catch (const std::exception& e) {
      log::warn("database not ready, retrying in {} ms: {}", delay.count(), e.what());
    }
    for (auto waited = std::chrono::milliseconds(0); waited < delay && !stopping_; waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

// Before readiness: the first requests after a start (a deploy, a restart, a new replica)
// would otherwise each wait for a connection of their own (orders of ~250 ms in the first
// half-second at 220 orders/s). A server that refuses more connections (max_connections)
// does not keep the service from starting: the pool then connects when asked, as before.
void App::open_connections_at_start() {
  try {
    log::info("{} database connections open for the start", database::open_at_start(*pool_));
  } catch (const std::exception& e) {
    log::warn("could not open every database connection at start (the pool connects when asked): {}", e.what());
  }
  metrics()
      .gauge("db_pool_open_when_ready", "Database connections open when the service became ready")
      .set(static_cast<double>(database::open_connections(*pool_)));
}

// `broker_optional`: whether this service can take requests, the question of a load
// balancer (Kubernetes' readiness probe). Without the broker it can: what it publishes waits
// in its outbox and what it consumes waits in its queue, so a broker outage, or a RabbitMQ
// node's restart in a rolling upgrade, must not take every replica out of its Service. The
// plain /health/ready (DESIGN §2) still says "not ready" then, for operators and ./sales.
http::Response App::ready_response(bool broker_optional) {
  json::Writer w;
  bool ok = true;
  bool db_ok = true;  // a service without a database has none to wait for
  w.begin_object().key("checks").begin_object();
  if (pool_) {
    db_ok = false;
    if (database_ready_) {
      try {
        database::ping(*pool_);
        db_ok = true;
      } catch (const std::exception&) {
      }
    }
    w.field("database", db_ok ? "up" : "down");
    ok = ok && db_ok;
  }
  for (auto& [name, check] : ready_checks_) {
    bool up = false;
    try {
      up = check();
    } catch (const std::exception&) {
    }
    // The relay and the consumer need the database as much as the broker: with the database
    // down their state says nothing of the broker, which an operator reading "down" would
    // go and look at.
    w.field(name, up ? "up" : name == kBrokerCheck && !db_ok ? "unknown" : "down");
    ok = ok && (up || (broker_optional && name == kBrokerCheck));
  }
  w.end_object().field("status", ok ? "ready" : "not ready").end_object();
  return http::Response::json(ok ? 200 : 503, w.take());
}

int App::run() {
  if (!validate()) return 2;
  if (!work_counts_.empty()) {
    server_.other_work = [counts = work_counts_] {
      std::uint64_t sum = 0;
      for (const auto& count : counts) sum += count();
      return sum;
    };
  }
  return serve(std::make_unique<http::Server>(server_, [this](http::Request& r) {
    // Events a handler enqueues carry the request's trace (DESIGN §2: into events too).
    events::TraceScope trace({std::string(r.headers.get("traceparent").value_or("")), std::string(r.request_id())});
    // Until the schema is current, resource routes would hit missing tables: say "not yet".
    if (pool_ && !database_ready_ && !r.path().starts_with("/health") && r.path() != "/metrics") {
      throw ProblemError(Problem::unavailable("The service is starting; try again shortly."));
    }
    return router_.dispatch(r);
  }, &metrics()));
}

bool App::validate() {
  try {
    env_.finish();
  } catch (const config::ConfigError& e) {
    std::fputs(fmt::format("sales-{}: {}\n", opts_.name, e.what()).c_str(), stderr);  // never throws, as fmt::print would
    return false;
  }
  return true;
}

void App::add_health_routes() {
  router_.get("/health/live", [](http::Request&, const http::PathParams&) {
    return http::Response::json(200, R"({"status":"live"})");
  });
  router_.get("/health/ready", [this](http::Request& req, const http::PathParams&) {
    auto broker = req.query_param("broker");
    if (broker && *broker != "optional") {
      throw ProblemError(Problem::bad_request("broker may only be \"optional\".", {{"broker", "may only be optional"}}));
    }
    return ready_response(broker.has_value());
  });
  router_.get("/metrics", [this](http::Request&, const http::PathParams&) {
    http::Response r;
    r.headers.set("Content-Type", "text/plain; version=0.0.4");
    r.body = metrics().render();
    return r;
  });
}

int App::serve(std::unique_ptr<http::Server> server) {
  add_health_routes();

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    server->start();
  } catch (const std::exception& e) {
    std::fputs(fmt::format("sales-{}: cannot listen on {}:{}: {}\n", opts_.name, server_.host, server_.port, e.what()).c_str(), stderr);
    return 1;
  }
  log::info("listening on {}:{}", server_.host, server->port());
  Periodic log_rotation(std::chrono::seconds(10), [this] {
    const std::string rotated = log::rotate_if_over(STDERR_FILENO, log_max_bytes_, STDOUT_FILENO);
    if (!rotated.empty()) log::info("log rotated: earlier lines are in {}.1", rotated);
  });
  log_rotation.start();
  std::thread db_thread;
  if (pool_) db_thread = std::thread([this] { prepare_database(); });
  else
    for (auto& fn : on_ready_) fn();

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("stopping on signal {}", sig);
  stopping_ = true;
  server->stop();
  for (auto& fn : on_stop_) fn();
  if (db_thread.joinable()) db_thread.join();
  return 0;
}

}  // namespace sales::service

#pragma once
// Process control for the crash tests: the services' pid files (.state/run/<name>.pid),
// SIGKILL (of a service, or of the whole PostgreSQL server), and ./sales to bring back
// whatever is down (SALES_SKIP_BUILD=1 ./sales up) or to stop the broker (./sales down rabbitmq).
#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

#include "sales/amqp/connection.hpp"

namespace saga {

// The saga's four services, the ones the crash test kills.
inline const std::vector<std::string> kSagaServices = {"inventory", "shipping", "order", "payment"};
// Every service behind the gateway, and the gateway.
inline const std::vector<std::string> kAllServices = {"product", "customer", "inventory", "order",
                                                      "payment", "shipping", "gateway"};

// The pid of the running service (pid file, alive, and its executable is build/bin/sales-<name>), or 0.
pid_t service_pid(const std::string& name);
// SIGKILL the service (the pid from its pid file). Returns the pid killed, or 0 if it was not running.
pid_t kill_service(const std::string& name);

// SIGKILL the PostgreSQL server: its postmaster (from postmaster.pid under the state
// folder) and every process it started, as a crash of the server or its machine would end
// them. Waits (bounded) until they are gone; `./sales up` then starts it again, and it
// recovers from its WAL. Returns the postmaster's pid, or 0 if it was not running.
pid_t crash_postgres();

// SIGSTOP / SIGCONT the service (a hang rather than a crash). Returns the pid, or 0.
pid_t pause_service(const std::string& name);
pid_t resume_service(const std::string& name);
// SIGCONT every service (harmless when running): TearDowns call it before anything else.
void resume_all();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
  std::chrono::milliseconds took{0};
};
// Runs `SALES_SKIP_BUILD=1 $SALES_ROOT/sales ARGS` and waits for it.
CommandResult run_sales(const std::string& args);
// `./sales up` without building: starts only what is down, waits until ready.
CommandResult sales_up();
// Stops the RabbitMQ node (./sales down rabbitmq) and starts it again (./sales up).
CommandResult restart_rabbitmq();

// GET <service>/health/ready is 200 for every service in `names`.
bool ready(const std::vector<std::string>& names = kAllServices, std::string* not_ready = nullptr);
// Until every service is ready (and the gateway's breakers let calls through); false on timeout.
bool wait_ready(std::chrono::milliseconds timeout, const std::vector<std::string>& names = kAllServices,
                std::string* not_ready = nullptr);
// Makes sure the whole system is up and ready, restarting what is down (used by TearDown
// so a failing crash test still leaves the system up). Returns a description of problems ("" if fine).
std::string ensure_system_up(std::chrono::milliseconds timeout = std::chrono::seconds(120));

// The broker the system uses (SALES_AMQP_* as ./sales test exports them).
sales::amqp::ConnectionParams broker_params();
// The broker: messages ready in a queue (passive declare), or -1 on error.
long queue_depth(const std::string& queue);

}  // namespace saga

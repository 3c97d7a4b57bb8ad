// sales-dlq: how many messages rest in each dead-letter queue, and moving them back to their
// queue once their cause is gone. Reads the broker's address as the services do
// (RABBITMQ_HOST, RABBITMQ_PORT, RABBITMQ_USER, RABBITMQ_PASSWORD, RABBITMQ_VHOST, or .env).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "sales/amqp/connection.hpp"
#include "sales/config/config.hpp"
#include "sales/events/moves.hpp"
#include "sales/events/subscriptions.hpp"
#include "sales/http/message.hpp"
#include "sales/service/app.hpp"
#include "sales/service/messaging.hpp"

namespace {

// How long a command waits for a broker it cannot reach before it gives up.
constexpr std::chrono::seconds kBrokerPatience{10};

constexpr const char* kUsage =
    "usage: sales-dlq [list]             messages in each <queue>.dlq\n"
    "       sales-dlq requeue QUEUE [N]  move up to N (default: all) of QUEUE.dlq back to QUEUE,\n"
    "                                    each with its attempts at zero\n"
    "QUEUE: ";

std::vector<std::string> consumer_queues() {
  std::vector<std::string> queues;
  for (const auto& s : sales::events::system_subscriptions()) queues.push_back(s.queue);
  return queues;
}

// Asked for (--help): the usage on stdout, success. After a mistake: the error and the usage
// on stderr, EX_USAGE.
int usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "sales-dlq: %s\n", error.c_str());
  std::string queues;
  for (const auto& q : consumer_queues()) queues += (queues.empty() ? "" : ", ") + q;
  std::fprintf(error.empty() ? stdout : stderr, "%s%s\n", kUsage, queues.c_str());
  return error.empty() ? 0 : 64;  // EX_USAGE
}

sales::amqp::ConnectionParams broker_from_env() {
  auto env = sales::config::Env::load();
  auto broker = sales::service::read_broker_settings(env);
  env.finish();
  return sales::service::broker_params(broker);
}

int run(const std::vector<std::string>& args) {
  const auto queues = consumer_queues();
  const std::string command = args.empty() ? "list" : args[0];
  if (command == "-h" || command == "--help" || command == "help") return usage("");
  if (command == "list" && args.size() <= 1) {
    sales::amqp::Connection conn(broker_from_env());
    sales::events::connect_within(conn, kBrokerPatience);
    for (const auto& [queue, messages] : sales::events::count_dead_letters(conn, queues)) {
      if (messages) {
        std::printf("%-20s %u\n", (queue + ".dlq").c_str(), *messages);
      } else {
        std::printf("%-20s - (not declared: its service has not started yet)\n", (queue + ".dlq").c_str());
      }
    }
    return 0;
  }
  if (command == "list") return usage("list takes no arguments");
  if (command != "requeue") return usage("unknown command '" + command + "'");
  if (args.size() < 2) return usage("requeue needs the QUEUE whose dead letters go back");
  if (args.size() > 3) return usage("requeue takes a QUEUE and at most a count N");
  const std::string& queue = args[1];
  if (std::find(queues.begin(), queues.end(), queue) == queues.end()) return usage("no consumer queue '" + queue + "'");
  std::size_t max = SIZE_MAX;
  if (args.size() == 3) {
    auto n = sales::http::parse_integer(args[2]);
    if (!n || *n < 1) return usage("N must be a positive integer, not '" + args[2] + "'");
    max = static_cast<std::size_t>(*n);
  }
  sales::amqp::Connection conn(broker_from_env());
  sales::events::connect_within(conn, kBrokerPatience);
  auto moved = sales::events::requeue_dead_letters(conn, queue, max, std::chrono::seconds(10));
  std::printf("moved %zu message%s from %s.dlq to %s\n", moved, moved == 1 ? "" : "s", queue.c_str(), queue.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const sales::config::ConfigError& e) {
    std::fprintf(stderr, "sales-dlq: %s\n", e.what());
    return 78;  // EX_CONFIG: the settings are wrong, running it again will not help
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sales-dlq: %s\n", e.what());
    return 1;
  }
}

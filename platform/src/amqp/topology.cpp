#include "sales/amqp/topology.hpp"

#include "sales/log/log.hpp"

namespace sales::amqp {

namespace {
constexpr int kPreconditionFailed = 406;  // AMQP: the queue exists with other arguments
constexpr int kNotFound = 404;
}  // namespace

void declare_exchanges(Connection& conn, const Topology& topology) {
  conn.declare_exchange(topology.events_exchange, "topic", true);
  conn.declare_exchange(topology.dead_letter_exchange, "direct", true);
}

void declare_consumer_topology(Connection& conn, const std::string& queue,
                               const std::vector<std::string>& routing_keys, const Topology& topology) {
  declare_exchanges(conn, topology);

  QueueOptions main;
  main.dead_letter_exchange = topology.dead_letter_exchange;
  main.dead_letter_routing_key = queue;
  conn.declare_queue(queue, main);

  const std::string dlq = dead_letter_queue(queue);
  conn.declare_queue(dlq, QueueOptions{});
  conn.bind_queue(dlq, topology.dead_letter_exchange, queue);

  // "" is the default exchange: every queue is reachable there by its own name.
  QueueOptions retry;
  retry.dead_letter_exchange = "";
  retry.dead_letter_routing_key = queue;
  retry.quorum_at_least_once = true;
  try {
    conn.declare_queue(retry_queue(queue), retry);
  } catch (const AmqpError& e) {
    if (e.reply_code() != kPreconditionFailed) throw;
    // 406 is also the broker's answer to other refusals (a vhost's queue limit): only a
    // queue that exists can be refusing other arguments. That one an earlier version
    // declared; it still delays retries, maybe with an at-most-once hop: say so rather than
    // refuse to start.
    try {
      conn.queue_message_count(retry_queue(queue));
    } catch (const AmqpError& missing) {
      if (missing.reply_code() == kNotFound) throw e;  // the 406 had another cause: report that one
      throw;
    }
    log::warn("amqp: {} exists with other arguments than this version's (an earlier version's queue): unless a "
              "policy makes it dead-letter at least once, a retried event can be lost if the broker fails as its "
              "delay ends. Delete it when it is empty (rabbitmqctl delete_queue --if-empty); the consumers "
              "declare it anew ({})",
              retry_queue(queue), e.what());
  }

  for (const auto& key : routing_keys) conn.bind_queue(queue, topology.events_exchange, key);
}

void delete_consumer_topology(Connection& conn, const std::string& queue) {
  conn.delete_queue(queue);
  conn.delete_queue(dead_letter_queue(queue));
  conn.delete_queue(retry_queue(queue));
}

}  // namespace sales::amqp

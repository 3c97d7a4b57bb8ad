#include "sales/amqp/topology.hpp"

#include "sales/log/log.hpp"

namespace sales::amqp {

namespace {
constexpr int kPreconditionFailed = 406;  // AMQP: the queue exists with other arguments
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
    // A version before this one declared it classic, and a queue that exists refuses other
    // arguments. It still works, with the at-most-once hop: say so rather than refuse to start.
    log::warn("amqp: {} exists as a classic queue (an earlier version's): a retried event can be lost if the "
              "broker crashes as its delay ends; delete the queue when it is empty, the next start declares it "
              "anew ({})",
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

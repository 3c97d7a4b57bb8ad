#pragma once
// The broker topology of DESIGN §4: one durable topic exchange for events, a direct
// dead-letter exchange, and per consumer queue <q>:
//   <q>        durable, bound to the events exchange by each event type it consumes,
//              dead-lettering to the DLX with routing key <q> (the consumer itself moves
//              poison and exhausted messages by a confirmed publish; see consumer.hpp);
//   <q>.dlq    durable, bound to the DLX by key <q>: where poison and exhausted messages rest;
//   <q>.retry  a quorum queue, no consumer: a failed message waits here for its per-message
//              TTL, then dead-letters through the default exchange back into <q>, at least
//              once (the broker keeps it until <q> has it). This gives retries a delay
//              without a sleeping consumer blocking its queue.
// Every declaration is idempotent, so each service declares what it uses at start.
#include <string>
#include <vector>

#include "sales/amqp/connection.hpp"

namespace sales::amqp {

// Names are parameters so tests can run against throwaway exchanges.
struct Topology {
  std::string events_exchange = "sales.events";
  std::string dead_letter_exchange = "sales.dlx";
};

inline std::string dead_letter_queue(const std::string& queue) { return queue + ".dlq"; }
inline std::string retry_queue(const std::string& queue) { return queue + ".retry"; }

// The two exchanges.
void declare_exchanges(Connection& conn, const Topology& topology = {});

// Exchanges, then <queue>, <queue>.dlq and <queue>.retry with their bindings, and one
// binding of <queue> to the events exchange per routing key (topic patterns allowed).
void declare_consumer_topology(Connection& conn, const std::string& queue,
                               const std::vector<std::string>& routing_keys, const Topology& topology = {});

// Deletes <queue>, <queue>.dlq and <queue>.retry (tests and tooling; never in services).
void delete_consumer_topology(Connection& conn, const std::string& queue);

}  // namespace sales::amqp

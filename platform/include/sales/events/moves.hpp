#pragma once
// Moving a delivery from its queue to another: the consumer's retry copies and dead
// letters (consumer.hpp), and an operator's move of dead letters back to their queue
// (tools/dlq). Every move is a confirmed publish of a copy, then the ack of the original:
// a crash between the two leaves a duplicate (which the consumer's inbox drops, by the
// message id the copy keeps), never a loss.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sales/amqp/connection.hpp"

namespace sales::events {

// The delivery as a message for `queue` through the default exchange, mandatory (a queue
// deleted by hand fails the move, not the message), with its id, type, body and trace
// headers; the broker's bookkeeping (x-death, x-first-death-*) and ours (x-attempts,
// x-dead-letter-*) stay behind, and x-attempts becomes `attempts`.
amqp::OutgoingMessage copy_for_queue(const amqp::Delivery& d, const std::string& queue, std::int64_t attempts);

// Publishes `copy`, waits for its confirm (AmqpError on a nack, a return or the timeout),
// then acks `d`.
void move_delivery(amqp::Connection& conn, const amqp::Delivery& d, const amqp::OutgoingMessage& copy,
                   std::chrono::milliseconds confirm_timeout);

struct DeadLetterCount {
  std::string queue;                      // the consumer queue
  std::optional<std::uint32_t> messages;  // ready in <queue>.dlq; none: not declared yet
};

// How many messages rest in each queue's DLQ (a DLQ its consumer has never declared has none).
std::vector<DeadLetterCount> count_dead_letters(amqp::Connection& conn, const std::vector<std::string>& queues);

// Moves up to `max` messages from <queue>.dlq back to <queue>, each with its attempts at
// zero, so they are handled again once their cause is gone (a database back, a fixed
// handler, a rolling update done). Never more than the DLQ held when it began: a message
// that fails again and returns during the move is not moved twice (per call: two calls at
// once may each move the other's). One message at a time, none fetched ahead: a failure
// (AmqpError) returns only the message in hand to the DLQ. Returns how many moved.
std::size_t requeue_dead_letters(amqp::Connection& conn, const std::string& queue, std::size_t max,
                                 std::chrono::milliseconds confirm_timeout);

// conn.connect(), tried again while the broker cannot be reached (its name does not resolve
// yet, nothing listens, the session breaks before login ends) until `patience` has passed,
// then that failure is thrown; paced as the relay and the consumers reconnect. For one-off
// commands (sales-dlq): a container's DNS a moment after a scale-out, or a broker
// restarting, would otherwise fail the operator's command. A refusal by the broker itself (a
// reply code: bad credentials, a missing vhost) is thrown at once.
void connect_within(amqp::Connection& conn, std::chrono::milliseconds patience);

}  // namespace sales::events

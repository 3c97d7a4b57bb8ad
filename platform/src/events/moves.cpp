#include "sales/events/moves.hpp"

#include <algorithm>
#include <thread>

#include "backoff.hpp"
#include "sales/amqp/topology.hpp"
#include "sales/events/envelope.hpp"

namespace sales::events {

amqp::OutgoingMessage copy_for_queue(const amqp::Delivery& d, const std::string& queue, std::int64_t attempts) {
  amqp::OutgoingMessage copy;
  copy.exchange = "";  // the default exchange: that queue alone, no other consumer
  copy.routing_key = queue;
  copy.body = d.body;
  copy.message_id = d.message_id;
  copy.type = d.type;
  copy.correlation_id = d.correlation_id;
  if (!d.content_type.empty()) copy.content_type = d.content_type;
  for (const auto& [key, value] : d.headers) {
    if (!key.starts_with("x-") || key == kRequestIdHeader) copy.headers[key] = value;
  }
  copy.headers[std::string(kAttemptsHeader)] = attempts;
  copy.mandatory = true;
  return copy;
}

void move_delivery(amqp::Connection& conn, const amqp::Delivery& d, const amqp::OutgoingMessage& copy,
                   std::chrono::milliseconds confirm_timeout) {
  // Not the broker's reject-to-DLX, which dead-letters at most once: the copy is confirmed
  // (and not returned) before the original is acked; a failure throws first, and the
  // original stays (redelivered on the next connection).
  conn.publish(copy);
  conn.wait_for_confirms(confirm_timeout);
  conn.ack(d.delivery_tag);
}

std::vector<DeadLetterCount> count_dead_letters(amqp::Connection& conn, const std::vector<std::string>& queues) {
  std::vector<DeadLetterCount> counts;
  counts.reserve(queues.size());
  for (const auto& queue : queues) {
    try {
      counts.push_back({queue, conn.queue_message_count(amqp::dead_letter_queue(queue))});
    } catch (const amqp::AmqpError& e) {
      if (e.reply_code() != 404) throw;
      counts.push_back({queue, std::nullopt});  // its consumer never started yet
    }
  }
  return counts;
}

std::size_t requeue_dead_letters(amqp::Connection& conn, const std::string& queue, std::size_t max,
                                 std::chrono::milliseconds confirm_timeout) {
  conn.queue_message_count(queue);  // AmqpError (404) before anything moves, if it is gone
  const auto dlq = amqp::dead_letter_queue(queue);
  const std::size_t to_move = std::min<std::size_t>(max, conn.queue_message_count(dlq));
  std::size_t moved = 0;
  // One at a time (basic.get): nothing is held that is not being moved, so a failure or
  // the end returns at most the message in hand to the DLQ. (A consumer's prefetch would
  // return up to its window each time, and a quorum DLQ, RabbitMQ 4's default, counts each
  // return toward its delivery limit, past which it drops the message.)
  while (moved < to_move) {
    auto d = conn.get(dlq);
    if (!d) break;  // another client took the rest
    move_delivery(conn, *d, copy_for_queue(*d, queue, 0), confirm_timeout);
    ++moved;
  }
  return moved;
}

void connect_within(amqp::Connection& conn, std::chrono::milliseconds patience) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  detail::Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (;;) {
    const auto pause = backoff.next();
    try {
      conn.connect();
      return;
    } catch (const amqp::AmqpError& e) {
      if (e.reply_code() != 0 || std::chrono::steady_clock::now() + pause >= give_up) throw;
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace sales::events

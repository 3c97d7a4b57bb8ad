#include "sales/events/moves.hpp"

#include <algorithm>

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
  for (const auto& queue : queues) counts.push_back({queue, conn.queue_message_count(amqp::dead_letter_queue(queue))});
  return counts;
}

std::size_t requeue_dead_letters(amqp::Connection& conn, const std::string& queue, std::size_t max,
                                 std::chrono::milliseconds confirm_timeout) {
  conn.queue_message_count(queue);  // AmqpError (404) before anything moves, if it is gone
  const auto dlq = amqp::dead_letter_queue(queue);
  const std::size_t to_move = std::min<std::size_t>(max, conn.queue_message_count(dlq));
  if (to_move == 0) return 0;
  constexpr std::size_t kPrefetch = 100;
  conn.consume(dlq, static_cast<std::uint16_t>(std::min(to_move, kPrefetch)));
  std::size_t moved = 0;
  while (moved < to_move) {
    // Another client may have taken some meanwhile: a quiet second ends the move.
    auto d = conn.next_delivery(std::chrono::seconds(1));
    if (!d) break;
    move_delivery(conn, *d, copy_for_queue(*d, queue, 0), confirm_timeout);
    ++moved;
  }
  return moved;
}

}  // namespace sales::events

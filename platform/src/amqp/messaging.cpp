// Publishing with confirms, consuming, and the single frame pump behind both. Confirms and
// deliveries share one socket, so whichever call is reading (a confirm wait or a delivery
// wait) handles every frame: acks update the unconfirmed set and deliveries are buffered
// for next_delivery().
#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "native.hpp"
#include "sales/amqp/connection.hpp"

namespace sales::amqp {
namespace {

constexpr amqp_channel_t kMainChannel = 1;
constexpr amqp_channel_t kAuxChannel = 2;

Headers decode_headers(const amqp_table_t& table) {
  Headers out;
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& e = table.entries[i];
    std::string key = native::to_string(e.key);
    const amqp_field_value_t& v = e.value;
    switch (v.kind) {
      case AMQP_FIELD_KIND_UTF8:
      case AMQP_FIELD_KIND_BYTES: out[key] = native::to_string(v.value.bytes); break;
      case AMQP_FIELD_KIND_I8: out[key] = std::int64_t{v.value.i8}; break;
      case AMQP_FIELD_KIND_U8: out[key] = std::int64_t{v.value.u8}; break;
      case AMQP_FIELD_KIND_I16: out[key] = std::int64_t{v.value.i16}; break;
      case AMQP_FIELD_KIND_U16: out[key] = std::int64_t{v.value.u16}; break;
      case AMQP_FIELD_KIND_I32: out[key] = std::int64_t{v.value.i32}; break;
      case AMQP_FIELD_KIND_U32: out[key] = std::int64_t{v.value.u32}; break;
      case AMQP_FIELD_KIND_I64: out[key] = std::int64_t{v.value.i64}; break;
      default: break;  // tables, arrays (x-death), floats: nothing we read
    }
  }
  return out;
}

std::string prop(const amqp_basic_properties_t& p, amqp_flags_t flag, amqp_bytes_t amqp_basic_properties_t::*field) {
  return (p._flags & flag) != 0 ? native::to_string(p.*field) : std::string();
}

}  // namespace

std::uint64_t Connection::publish(const OutgoingMessage& msg) {
  require_open("publish");
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
  props.content_type = native::bytes(msg.content_type);
  props.delivery_mode = msg.persistent ? 2 : 1;
  props.timestamp = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  if (!msg.message_id.empty()) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = native::bytes(msg.message_id);
  }
  if (!msg.type.empty()) {
    props._flags |= AMQP_BASIC_TYPE_FLAG;
    props.type = native::bytes(msg.type);
  }
  if (!msg.correlation_id.empty()) {
    props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
    props.correlation_id = native::bytes(msg.correlation_id);
  }
  std::string expiration;
  if (msg.expiration) {
    expiration = std::to_string(std::max<std::int64_t>(0, msg.expiration->count()));
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = native::bytes(expiration);
  }
  std::vector<amqp_table_entry_t> entries;
  entries.reserve(msg.headers.size());
  for (const auto& [key, value] : msg.headers) {
    amqp_table_entry_t e{};
    e.key = native::bytes(key);
    if (const auto* s = std::get_if<std::string>(&value)) {
      e.value.kind = AMQP_FIELD_KIND_UTF8;
      e.value.value.bytes = native::bytes(*s);
    } else {
      e.value.kind = AMQP_FIELD_KIND_I64;
      e.value.value.i64 = std::get<std::int64_t>(value);
    }
    entries.push_back(e);
  }
  if (!entries.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
  }
  int status = amqp_basic_publish(state_, kMainChannel, native::bytes(msg.exchange), native::bytes(msg.routing_key),
                                  msg.mandatory ? 1 : 0, 0, &props, native::bytes(msg.body));
  if (status != AMQP_STATUS_OK) fail_io("basic.publish", status);
  std::uint64_t seq = next_publish_seq_++;
  unconfirmed_.insert(seq);
  return seq;
}

void Connection::wait_for_confirms(std::chrono::milliseconds timeout) {
  if (lost_unconfirmed_ > 0) {
    throw AmqpError("amqp: the session closed before the broker confirmed " +
                    std::to_string(std::exchange(lost_unconfirmed_, 0)) + " message(s)");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!unconfirmed_.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      std::size_t pending = std::exchange(unconfirmed_, {}).size();  // reported here, not again
      drop();  // late confirms would be ambiguous: a fresh session is simpler and safe
      throw AmqpError("amqp: no publisher confirm within " + std::to_string(timeout.count()) + " ms for " +
                      std::to_string(pending) + " message(s)");
    }
    pump(left);
  }
  // Both counts are reported (and cleared) together: what one wait saw is not a later
  // wait's failure.
  const std::size_t nacked = std::exchange(nacked_, 0);
  const std::size_t returned = std::exchange(returned_, 0);
  if (nacked > 0 || returned > 0) {
    throw AmqpError("amqp: broker nacked " + std::to_string(nacked) + " and returned " + std::to_string(returned) +
                    " message(s) (a returned one is mandatory and no queue took it)");
  }
}

void Connection::on_confirm(std::uint64_t tag, bool multiple, bool ack) {
  auto end = multiple ? unconfirmed_.upper_bound(tag) : unconfirmed_.find(tag);
  if (!multiple && end == unconfirmed_.end()) return;
  auto first = multiple ? unconfirmed_.begin() : end;
  auto last = multiple ? end : std::next(end);
  if (!ack) nacked_ += static_cast<std::size_t>(std::distance(first, last));
  unconfirmed_.erase(first, last);
}

void Connection::consume(const std::string& queue, std::uint16_t prefetch, const std::string& consumer_tag) {
  require_open("basic.consume");
  amqp_basic_qos(state_, kMainChannel, 0, prefetch, 0);
  if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) fail_rpc("basic.qos", kMainChannel);
  amqp_basic_consume(state_, kMainChannel, native::bytes(queue), native::bytes(consumer_tag), 0, 0, 0,
                     amqp_empty_table);
  if (amqp_get_rpc_reply(state_).reply_type != AMQP_RESPONSE_NORMAL) {
    fail_rpc(("basic.consume " + queue).c_str(), kMainChannel);
  }
}

std::optional<Delivery> Connection::next_delivery(std::chrono::microseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffered_.empty()) {
    require_open("next_delivery");
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    // Past the deadline, still one look without waiting: frames already on the socket are
    // taken, so a zero timeout gathers what the broker sent (bounded by the prefetch).
    if (!pump(std::max(left, std::chrono::microseconds(0)))) return std::nullopt;
  }
  Delivery d = std::move(buffered_.front());
  buffered_.pop_front();
  return d;
}

void Connection::ack(std::uint64_t delivery_tag, bool multiple) {
  require_open("basic.ack");
  int status = amqp_basic_ack(state_, kMainChannel, delivery_tag, multiple ? 1 : 0);
  if (status != AMQP_STATUS_OK) fail_io("basic.ack", status);
}

void Connection::reject(std::uint64_t delivery_tag, bool requeue) {
  require_open("basic.reject");
  int status = amqp_basic_reject(state_, kMainChannel, delivery_tag, requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) fail_io("basic.reject", status);
}

void Connection::nack(std::uint64_t delivery_tag, bool multiple, bool requeue) {
  require_open("basic.nack");
  int status = amqp_basic_nack(state_, kMainChannel, delivery_tag, multiple ? 1 : 0, requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) fail_io("basic.nack", status);
}

void Connection::service_io() {
  require_open("service_io");
  // Bounded, so a flood of deliveries cannot keep an idle publisher here forever.
  for (int i = 0; i < 64 && pump(std::chrono::milliseconds(0)); ++i) {
  }
}

void Connection::keep_alive() noexcept {
  if (!is_open() || std::chrono::steady_clock::now() - last_read_ < keep_alive_every_) return;
  try {
    service_io();
  } catch (const AmqpError&) {
    // Every path that throws it has closed the session: the next call that needs it reports.
  } catch (...) {
    drop();  // what was read is unknown: a fresh session is the safe one
  }
}

bool Connection::pump(std::chrono::microseconds timeout) {
  // Frees frame memory of earlier calls; a no-op while rabbitmq-c still holds queued frames.
  amqp_maybe_release_buffers(state_);
  amqp_frame_t frame;
  timeval tv = native::to_timeval(timeout);
  int status = amqp_simple_wait_frame_noblock(state_, &frame, &tv);
  last_read_ = std::chrono::steady_clock::now();
  if (status == AMQP_STATUS_TIMEOUT) return false;
  if (status != AMQP_STATUS_OK) fail_io("read", status);
  if (frame.frame_type != AMQP_FRAME_METHOD) return true;  // stray content of a message we skipped

  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
      on_confirm(m->delivery_tag, m->multiple != 0, true);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
      on_confirm(m->delivery_tag, m->multiple != 0, false);
      break;
    }
    case AMQP_BASIC_DELIVER_METHOD:
      read_delivery(frame.payload.method.decoded, frame.channel);
      break;
    case AMQP_BASIC_RETURN_METHOD: {
      // A mandatory message no queue took. The broker returns it before its confirm, so
      // the wait for that confirm reports it. Its content frames must be read off the wire.
      ++returned_;
      amqp_message_t message;
      amqp_rpc_reply_t r = amqp_read_message(state_, frame.channel, &message, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) fail_io("read returned message", r.library_error);
      amqp_destroy_message(&message);
      break;
    }
    case AMQP_BASIC_CANCEL_METHOD:
      // The broker cancels a consumer when its queue is deleted: the session is useless.
      drop();
      throw AmqpError("amqp: consumer cancelled by broker (queue deleted?)");
    case AMQP_CHANNEL_CLOSE_METHOD: {
      const auto* m = static_cast<const amqp_channel_close_t*>(frame.payload.method.decoded);
      int code = m->reply_code;
      std::string text = native::to_string(m->reply_text);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(state_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (frame.channel == kAuxChannel) {
        aux_channel_open_ = false;
        break;
      }
      close();
      throw AmqpError("amqp: channel closed by broker: " + std::to_string(code) + " " + text, code);
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* m = static_cast<const amqp_connection_close_t*>(frame.payload.method.decoded);
      int code = m->reply_code;
      std::string text = native::to_string(m->reply_text);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      drop();
      throw AmqpError("amqp: connection closed by broker: " + std::to_string(code) + " " + text, code);
    }
    default:
      break;
  }
  return true;
}

namespace {
// What basic.deliver and basic.get-ok both say of a message, before its content.
template <class Method>
Delivery delivery_from(const Method& m) {
  Delivery d;
  d.delivery_tag = m.delivery_tag;
  d.redelivered = m.redelivered != 0;
  d.exchange = native::to_string(m.exchange);
  d.routing_key = native::to_string(m.routing_key);
  return d;
}
}  // namespace

void Connection::read_delivery(const void* deliver_method, std::uint16_t channel) {
  Delivery d = delivery_from(*static_cast<const amqp_basic_deliver_t*>(deliver_method));
  read_content(d, channel);
  buffered_.push_back(std::move(d));
}

std::optional<Delivery> Connection::get(const std::string& queue) {
  require_open("basic.get");
  amqp_rpc_reply_t r = amqp_basic_get(state_, kMainChannel, native::bytes(queue), 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) fail_rpc(("basic.get " + queue).c_str(), kMainChannel);
  if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::nullopt;
  Delivery d = delivery_from(*static_cast<const amqp_basic_get_ok_t*>(r.reply.decoded));
  read_content(d, kMainChannel);
  return d;
}

void Connection::read_content(Delivery& d, std::uint16_t channel) {
  amqp_message_t message;
  amqp_rpc_reply_t r = amqp_read_message(state_, channel, &message, 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    drop();
    throw AmqpError("amqp: reading a delivery failed");
  }
  const amqp_basic_properties_t& p = message.properties;
  d.body = native::to_string(message.body);
  d.message_id = prop(p, AMQP_BASIC_MESSAGE_ID_FLAG, &amqp_basic_properties_t::message_id);
  d.type = prop(p, AMQP_BASIC_TYPE_FLAG, &amqp_basic_properties_t::type);
  d.correlation_id = prop(p, AMQP_BASIC_CORRELATION_ID_FLAG, &amqp_basic_properties_t::correlation_id);
  d.content_type = prop(p, AMQP_BASIC_CONTENT_TYPE_FLAG, &amqp_basic_properties_t::content_type);
  d.persistent = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 && p.delivery_mode == 2;
  if ((p._flags & AMQP_BASIC_HEADERS_FLAG) != 0) d.headers = decode_headers(p.headers);
  amqp_destroy_message(&message);
}

}  // namespace sales::amqp

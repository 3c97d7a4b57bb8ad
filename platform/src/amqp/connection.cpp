// Connection lifecycle and the synchronous broker round trips (declare, bind, delete).
// Topology RPCs run on channel 2: a refused declare (406, arguments differ) or a passive
// declare of a missing queue (404) closes only that channel, never the confirm/consume
// channel, so a caller can report the error and carry on.
#include "sales/amqp/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "native.hpp"
#include "sales/net/tcp_liveness.hpp"

namespace sales::amqp {
namespace {

constexpr amqp_channel_t kMainChannel = 1;
constexpr amqp_channel_t kAuxChannel = 2;
// The largest frame we offer the broker (its minimum is 4 KiB, rabbitmq-c's default 128
// KiB). rabbitmq-c sizes its send buffer and every decoding pool page by it, and keeps
// them, so 128 KiB pages held ~1 MB per service once a load had touched them. Our events
// are a few hundred bytes to a few KiB; a larger body just goes as several body frames.
constexpr int kFrameMax = 16 * 1024;

std::string describe(const amqp_rpc_reply_t& r, int& code) {
  code = 0;
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "missing RPC reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* m = static_cast<const amqp_connection_close_t*>(r.reply.decoded);
        code = m->reply_code;
        return "connection closed by broker: " + std::to_string(code) + " " + native::to_string(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* m = static_cast<const amqp_channel_close_t*>(r.reply.decoded);
        code = m->reply_code;
        return "channel closed by broker: " + std::to_string(code) + " " + native::to_string(m->reply_text);
      }
      return "unexpected broker method " + std::to_string(r.reply.id);
  }
  return "unknown reply";
}

// Calls fail() (which throws) unless the last RPC succeeded.
template <class Fail>
void check(amqp_connection_state_t state, Fail&& fail) {
  if (amqp_get_rpc_reply(state).reply_type != AMQP_RESPONSE_NORMAL) fail();
}

}  // namespace

std::optional<std::string> Delivery::header_string(const std::string& key) const {
  auto it = headers.find(key);
  if (it == headers.end()) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return std::to_string(std::get<std::int64_t>(it->second));
}

std::optional<std::int64_t> Delivery::header_int(const std::string& key) const {
  auto it = headers.find(key);
  if (it == headers.end()) return std::nullopt;
  if (const auto* n = std::get_if<std::int64_t>(&it->second)) return *n;
  try {
    return std::stoll(std::get<std::string>(it->second));
  } catch (const std::exception&) {
    return std::nullopt;  // a foreign header we cannot read counts as absent
  }
}

namespace {
// The PostgreSQL sessions' liveness settings (pg::tcp_liveness_options) on the broker's
// socket. Best effort: a socket that refuses an option keeps the kernel's default.
void set_liveness(int fd, std::chrono::milliseconds user_timeout) {
  const int on = 1, idle_s = net::kKeepaliveIdleSeconds, interval_s = net::kKeepaliveIntervalSeconds,
            probes = net::kKeepaliveProbes;
  const auto timeout_ms = static_cast<unsigned int>(user_timeout.count());
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof timeout_ms);
}
}  // namespace

Connection::Connection(ConnectionParams params)
    : params_(std::move(params)),
      keep_alive_every_(params_.heartbeat.count() > 0
                            ? std::chrono::duration_cast<std::chrono::milliseconds>(params_.heartbeat) / 4
                            : std::chrono::milliseconds(1000)) {}

int Connection::socket_fd() const { return state_ == nullptr ? -1 : amqp_get_sockfd(state_); }

int Connection::frame_max() const { return state_ == nullptr ? 0 : amqp_get_frame_max(state_); }

Connection::~Connection() { close(); }

void Connection::connect() {
  close();
  state_ = amqp_new_connection();
  if (state_ == nullptr) throw AmqpError("amqp: out of memory");
  amqp_socket_t* socket = amqp_tcp_socket_new(state_);
  if (socket == nullptr) {
    drop();
    throw AmqpError("amqp: cannot create socket");
  }
  timeval connect_tv = native::to_timeval(params_.connect_timeout);
  int status = amqp_socket_open_noblock(socket, params_.host.c_str(), params_.port, &connect_tv);
  if (status != AMQP_STATUS_OK) {
    drop();
    throw AmqpError("amqp: cannot connect to " + params_.host + ":" + std::to_string(params_.port) + ": " +
                    amqp_error_string2(status));
  }
  set_liveness(amqp_socket_get_sockfd(socket), params_.tcp_user_timeout);
  amqp_set_handshake_timeout(state_, &connect_tv);
  timeval rpc_tv = native::to_timeval(params_.rpc_timeout);
  amqp_set_rpc_timeout(state_, &rpc_tv);

  // consumer_cancel_notify: without it the broker drops a consumer whose queue was deleted
  // (or whose node was lost) without a word, and it would sit connected and idle. Told, it
  // reconnects and declares its queue and bindings again (messaging.cpp, basic.cancel).
  // rabbitmq-c merges this with its own capabilities.
  amqp_table_entry_t notify{};
  notify.key = amqp_cstring_bytes("consumer_cancel_notify");
  notify.value.kind = AMQP_FIELD_KIND_BOOLEAN;
  notify.value.value.boolean = 1;
  amqp_table_entry_t capabilities{};
  capabilities.key = amqp_cstring_bytes("capabilities");
  capabilities.value.kind = AMQP_FIELD_KIND_TABLE;
  capabilities.value.value.table = amqp_table_t{1, &notify};
  const amqp_table_t client_properties{1, &capabilities};
  amqp_rpc_reply_t login = amqp_login_with_properties(
      state_, params_.vhost.c_str(), 0, kFrameMax, static_cast<int>(params_.heartbeat.count()), &client_properties,
      AMQP_SASL_METHOD_PLAIN, params_.user.c_str(), params_.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    int code = 0;
    std::string why = describe(login, code);
    drop();
    throw AmqpError("amqp: login to " + params_.host + " as " + params_.user + " failed: " + why, code);
  }
  amqp_channel_open(state_, kMainChannel);
  check(state_, [&] { fail_rpc("channel.open", kMainChannel); });
  amqp_confirm_select(state_, kMainChannel);
  check(state_, [&] { fail_rpc("confirm.select", kMainChannel); });
  next_publish_seq_ = 1;
  unconfirmed_.clear();
  lost_unconfirmed_ = 0;  // a new session: its caller starts its work again
  nacked_ = 0;
  returned_ = 0;
  buffered_.clear();
  aux_channel_open_ = false;
  open_aux_channel();
}

void Connection::close() noexcept {
  if (state_ == nullptr) return;
  // A polite close lets the broker requeue our unacked deliveries at once; it is bounded
  // by rpc_timeout, and skipped entirely when the socket is already known to be dead.
  amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  drop();
}

void Connection::drop() noexcept {
  if (state_ == nullptr) return;
  amqp_destroy_connection(state_);
  state_ = nullptr;
  aux_channel_open_ = false;
  lost_unconfirmed_ += unconfirmed_.size();  // the next confirm wait reports them
  unconfirmed_.clear();
  buffered_.clear();
}

void Connection::require_open(const char* what) const {
  if (state_ == nullptr) throw AmqpError(std::string("amqp: ") + what + ": not connected");
}

void Connection::open_aux_channel() {
  if (aux_channel_open_) return;
  amqp_channel_open(state_, kAuxChannel);
  check(state_, [&] { fail_rpc("channel.open", kAuxChannel); });
  aux_channel_open_ = true;
}

void Connection::fail_rpc(const char* what, std::uint16_t channel) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(state_);
  int code = 0;
  std::string msg = std::string("amqp: ") + what + ": " + describe(r, code);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    amqp_channel_close_ok_t ok{};
    amqp_send_method(state_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    if (channel == kAuxChannel) {
      aux_channel_open_ = false;  // reopened on next use; the session is intact
      throw AmqpError(msg, code);
    }
    close();  // without channel 1 there are no confirms or deliveries: start over
    throw AmqpError(msg, code);
  }
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    amqp_connection_close_ok_t ok{};
    amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
  }
  drop();  // socket error, timeout or broker-closed connection: nothing left to close politely
  throw AmqpError(msg, code);
}

void Connection::fail_io(const char* what, int status) {
  drop();
  throw AmqpError(std::string("amqp: ") + what + ": " + amqp_error_string2(status));
}

void Connection::declare_exchange(const std::string& name, const std::string& type, bool durable) {
  require_open("exchange.declare");
  open_aux_channel();
  amqp_exchange_declare(state_, kAuxChannel, native::bytes(name), native::bytes(type), 0, durable ? 1 : 0, 0, 0,
                        amqp_empty_table);
  check(state_, [&] { fail_rpc(("exchange.declare " + name).c_str(), kAuxChannel); });
}

void Connection::declare_queue(const std::string& name, const QueueOptions& opts) {
  require_open("queue.declare");
  open_aux_channel();
  amqp_table_entry_t entries[5];
  int n = 0;
  auto add = [&](const char* key, const std::string& value) {
    entries[n].key = amqp_cstring_bytes(key);
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes = native::bytes(value);
    ++n;
  };
  if (opts.dead_letter_exchange) add("x-dead-letter-exchange", *opts.dead_letter_exchange);
  if (opts.dead_letter_routing_key) add("x-dead-letter-routing-key", *opts.dead_letter_routing_key);
  static const std::string kQuorum = "quorum", kAtLeastOnce = "at-least-once", kRejectPublish = "reject-publish";
  if (opts.quorum_at_least_once) {
    add("x-queue-type", kQuorum);
    add("x-dead-letter-strategy", kAtLeastOnce);
    add("x-overflow", kRejectPublish);
  }
  amqp_table_t args{n, entries};
  amqp_queue_declare(state_, kAuxChannel, native::bytes(name), 0, opts.durable ? 1 : 0, 0, 0, args);
  check(state_, [&] { fail_rpc(("queue.declare " + name).c_str(), kAuxChannel); });
}

void Connection::bind_queue(const std::string& queue, const std::string& exchange, const std::string& routing_key) {
  require_open("queue.bind");
  open_aux_channel();
  amqp_queue_bind(state_, kAuxChannel, native::bytes(queue), native::bytes(exchange), native::bytes(routing_key),
                  amqp_empty_table);
  check(state_, [&] { fail_rpc(("queue.bind " + queue + " to " + exchange).c_str(), kAuxChannel); });
}

void Connection::delete_queue(const std::string& name) {
  require_open("queue.delete");
  open_aux_channel();
  amqp_queue_delete(state_, kAuxChannel, native::bytes(name), 0, 0);
  check(state_, [&] { fail_rpc(("queue.delete " + name).c_str(), kAuxChannel); });
}

void Connection::delete_exchange(const std::string& name) {
  require_open("exchange.delete");
  open_aux_channel();
  amqp_exchange_delete(state_, kAuxChannel, native::bytes(name), 0);
  check(state_, [&] { fail_rpc(("exchange.delete " + name).c_str(), kAuxChannel); });
}

std::uint32_t Connection::queue_message_count(const std::string& name) {
  require_open("queue.declare (passive)");
  open_aux_channel();
  auto* ok = amqp_queue_declare(state_, kAuxChannel, native::bytes(name), 1, 0, 0, 0, amqp_empty_table);
  check(state_, [&] { fail_rpc(("queue.declare (passive) " + name).c_str(), kAuxChannel); });
  return ok->message_count;
}

}  // namespace sales::amqp

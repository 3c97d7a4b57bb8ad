#pragma once
// RabbitMQ through rabbitmq-c: one Connection per thread (the library is not thread-safe).
// A connection owns channel 1 (publisher confirms + consuming) and channel 2 (passive
// declares, whose 404 closes the channel, so it must not take channel 1 down with it).
// Every failure is an AmqpError; when is_open() turns false the caller reconnects
// (with backoff) by calling connect() again.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

// rabbitmq-c's opaque handle; the header stays free of <amqp.h>.
typedef struct amqp_connection_state_t_* amqp_connection_state_t;

namespace sales::amqp {

struct ConnectionParams {
  std::string host = "localhost";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  std::chrono::seconds heartbeat{10};
  std::chrono::milliseconds connect_timeout{5000};
  // Bound on any synchronous broker round trip (declare, consume, qos).
  std::chrono::milliseconds rpc_timeout{10000};
  // A write the broker's host has not acknowledged for this long, or keepalive probes (after
  // 5 s of silence) left unanswered as long, ends the connection (TCP_USER_TIMEOUT).
  // rabbitmq-c writes with no deadline of its own, so without it a publish to a node that
  // vanished without a reset (a lost host, a partition) waits for the kernel's ~15 minutes,
  // with the relay's transaction and row locks held. Twice the heartbeat: the broker gives
  // up on us as soon.
  std::chrono::milliseconds tcp_user_timeout{20000};
};

class AmqpError : public std::runtime_error {
 public:
  explicit AmqpError(const std::string& msg, int reply_code = 0)
      : std::runtime_error(msg), reply_code_(reply_code) {}
  // The broker's reply code when it closed a channel or the connection (404, 406...), else 0.
  [[nodiscard]] int reply_code() const { return reply_code_; }

 private:
  int reply_code_;
};

// Header values we use: strings (traceparent, x-request-id) and integers (x-attempts).
using HeaderValue = std::variant<std::string, std::int64_t>;
using Headers = std::map<std::string, HeaderValue>;

struct OutgoingMessage {
  std::string exchange;  // "" is the default exchange (routing key = queue name)
  std::string routing_key;
  std::string body;
  std::string message_id;
  std::string type;
  std::string correlation_id;
  std::string content_type = "application/json";
  Headers headers;
  bool persistent = true;
  // Per-message TTL; used to park a retry copy in a delay queue.
  std::optional<std::chrono::milliseconds> expiration;
  // A message no queue takes comes back (basic.return) and wait_for_confirms throws,
  // instead of being confirmed and dropped. For a copy that must land in one known queue.
  bool mandatory = false;
};

struct Delivery {
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string message_id;
  std::string type;
  std::string correlation_id;
  std::string content_type;
  bool persistent = false;  // delivery mode 2: a durable queue keeps it on disk
  Headers headers;

  [[nodiscard]] std::optional<std::string> header_string(const std::string& key) const;
  [[nodiscard]] std::optional<std::int64_t> header_int(const std::string& key) const;
};

struct QueueOptions {
  bool durable = true;
  std::optional<std::string> dead_letter_exchange;     // x-dead-letter-exchange
  std::optional<std::string> dead_letter_routing_key;  // x-dead-letter-routing-key
  // A quorum queue that dead-letters at least once: it keeps a message until the target
  // queue has confirmed it, so a broker crash mid-hop cannot lose it (RabbitMQ ≥ 3.10;
  // x-queue-type=quorum, x-dead-letter-strategy=at-least-once, x-overflow=reject-publish,
  // which that strategy requires).
  bool quorum_at_least_once = false;
};

class Connection {
 public:
  explicit Connection(ConnectionParams params);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens the socket (bounded by connect_timeout), logs in, opens the channels and turns
  // on publisher confirms. Closes any previous session first.
  void connect();
  void close() noexcept;
  [[nodiscard]] bool is_open() const { return state_ != nullptr; }
  [[nodiscard]] const ConnectionParams& params() const { return params_; }
  // The session's socket (-1 when closed), for its TCP options to be seen.
  [[nodiscard]] int socket_fd() const;
  [[nodiscard]] int frame_max() const;  // as negotiated with the broker (0 when not connected)

  // Topology (idempotent when the arguments match what exists).
  void declare_exchange(const std::string& name, const std::string& type, bool durable = true);
  void declare_queue(const std::string& name, const QueueOptions& opts = {});
  void bind_queue(const std::string& queue, const std::string& exchange, const std::string& routing_key);
  void delete_queue(const std::string& name);
  void delete_exchange(const std::string& name);
  // Messages ready in the queue (passive declare). AmqpError with reply_code 404 if absent.
  std::uint32_t queue_message_count(const std::string& name);

  // Publishes without waiting and returns the confirm sequence number. Publish a batch,
  // then wait_for_confirms() once: one round trip for the whole batch.
  std::uint64_t publish(const OutgoingMessage& msg);
  // Waits until the broker has confirmed every publish so far. Throws AmqpError on a
  // nack or a returned mandatory message (the connection stays usable) or when the
  // deadline passes (connection closed,
  // since the fate of the pending messages is unknown).
  void wait_for_confirms(std::chrono::milliseconds timeout);
  [[nodiscard]] std::size_t unconfirmed() const { return unconfirmed_.size(); }

  // Consuming on channel 1, manual acknowledgements.
  void consume(const std::string& queue, std::uint16_t prefetch, const std::string& consumer_tag = "");
  // Waits up to `timeout` for a delivery, keeping heartbeats going; nullopt on timeout.
  // A zero timeout takes what already arrived without waiting (to gather a batch).
  std::optional<Delivery> next_delivery(std::chrono::microseconds timeout);
  // basic.get on channel 1, manual acknowledgement: the queue's next message, or nullopt
  // when it is empty. Nothing is fetched ahead (a consumer's prefetch would be returned
  // unacked at its close, and on a quorum queue every return counts toward its delivery
  // limit). Call it with no publish awaiting its confirm.
  std::optional<Delivery> get(const std::string& queue);
  // multiple=true settles every unsettled delivery up to and including `delivery_tag`
  // in one frame: a batch committed together is acknowledged together.
  void ack(std::uint64_t delivery_tag, bool multiple = false);
  void reject(std::uint64_t delivery_tag, bool requeue);  // requeue=false → dead-letter
  void nack(std::uint64_t delivery_tag, bool multiple, bool requeue);

  // Reads whatever the broker sent without blocking: lets rabbitmq-c answer heartbeats on
  // a connection that is otherwise idle (an outbox relay with nothing to publish).
  void service_io();
  // service_io() when a quarter of the heartbeat has passed since this session last read
  // from the broker, else nothing (a clock read): for a caller busy elsewhere for long, such
  // as a consumer whose handlers each may wait up to a statement timeout on a lock. rabbitmq-c
  // sends heartbeats only from inside its calls, and past about two silent heartbeats the
  // broker closes the connection and requeues what it holds. Never throws: a failure closes
  // the session (is_open() false), which the caller's next call that must succeed reports.
  void keep_alive() noexcept;

 private:
  // Handles one incoming frame, waiting at most `timeout`; false if none arrived.
  bool pump(std::chrono::microseconds timeout);
  void on_confirm(std::uint64_t tag, bool multiple, bool ack);
  void read_delivery(const void* deliver_method, std::uint16_t channel);
  // The content frames of a delivery (basic.deliver or basic.get-ok) into `d`.
  void read_content(Delivery& d, std::uint16_t channel);
  void open_aux_channel();
  void drop() noexcept;  // forgets the session without talking to the broker
  void require_open(const char* what) const;
  // Turns a failed RPC on `channel` into an AmqpError; a closed channel 1 or a closed
  // connection ends the session (is_open() becomes false).
  [[noreturn]] void fail_rpc(const char* what, std::uint16_t channel);
  [[noreturn]] void fail_io(const char* what, int status);

  ConnectionParams params_;
  amqp_connection_state_t state_ = nullptr;
  bool aux_channel_open_ = false;
  std::uint64_t next_publish_seq_ = 1;
  std::set<std::uint64_t> unconfirmed_;
  std::size_t nacked_ = 0;
  std::size_t returned_ = 0;  // mandatory messages the broker could not route
  // Published, then the session was dropped before their confirms: the next confirm wait on
  // this session fails for them instead of finding nothing to wait for (connect() forgets).
  std::size_t lost_unconfirmed_ = 0;
  std::deque<Delivery> buffered_;  // deliveries read while waiting for confirms
  std::chrono::steady_clock::time_point last_read_{};  // pump()'s last look at the socket
  std::chrono::milliseconds keep_alive_every_;         // a quarter of the heartbeat (1 s without one)
};

}  // namespace sales::amqp

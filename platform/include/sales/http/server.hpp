#pragma once
// The HTTP/1.1 server: a listener and one coroutine per connection (Beast), keep-alive,
// explicit header/body limits, a deadline on every read and write. It assigns the request
// id, renders ProblemError as problem+json, answers 413 over the body limit, and counts
// every request by route and status.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sales/http/message.hpp"

namespace sales::metrics { class Registry; }

namespace sales::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (tests)
  int threads = 4;
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds read_timeout{30000};   // a request's header, and then its body, each
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive between requests
  std::chrono::milliseconds write_timeout{30000};
  // Client connections held at once; one more is answered 503 (Retry-After: 1) and closed
  // (http_connections_refused_total{cap="server"}). Services: HTTP_MAX_CONNECTIONS.
  std::size_t max_connections = 4096;
  // Connections one client may hold at once (0: no such cap); one more is answered 429
  // (Retry-After: 1) and closed (http_connections_refused_total{cap="client"}). The client
  // is what `connection_client` makes of the peer's address; a peer it gives no name is not
  // counted (a trusted proxy, whose clients only their requests tell apart). The gateway:
  // GATEWAY_MAX_CONNECTIONS_PER_CLIENT.
  std::size_t max_connections_per_client = 0;
  std::function<std::optional<std::string>(const std::string& peer_ip)> connection_client;
  // Request bodies held at once, all connections together (at least body_limit), counted as
  // their bytes arrive: the read that would pass it ends its request with a 503 and
  // Retry-After (a connection that only declares a body holds nothing).
  std::size_t bodies_limit = 64u << 20;
  std::string service = "service";  // metrics label
  // Called with every answer just before it is written: the handler's, and the server's own
  // refusals (a 413 with its request's method, target and header; a 431 or a 400 for what
  // is not HTTP with an empty request). The gateway adds its CORS fields here. It runs on
  // the server's threads at once and must not throw. Empty: nothing is called.
  std::function<void(const Request&, Response&)> decorate_answer;
  // Called once on a server thread when `quiet_after` has passed with nothing answered, no
  // connection closed, nothing in hand and `other_work` unchanged, after some work (so
  // between one and two quiet_after of the last). The services give their freed heap back
  // to the system there, and again once idle keep-alive connections close after the load
  // (idle_timeout, or their client), freeing their buffers. It must not throw. Empty:
  // nothing is called.
  std::function<void()> on_quiet;
  std::chrono::milliseconds quiet_after{1000};
  // A count that grows with work done outside HTTP (events consumed and published): the
  // quiet watch takes its change as work, like an answer. Empty: answers alone.
  std::function<std::uint64_t()> other_work;
};

// Runs on a server thread and may block (database calls): the server has `threads`
// threads sharing the connections.
using Handler = std::function<Response(Request&)>;

class Server {
 public:
  Server(ServerOptions opts, Handler handler, metrics::Registry* metrics = nullptr);
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();                          // binds and starts serving; throws if it cannot bind
  [[nodiscard]] std::uint16_t port() const;  // the bound port
  void stop();                           // stops accepting, closes connections, joins threads

 private:
  std::unique_ptr<Impl> impl_;
};

// Shared by the sync and async servers: id, limits, errors and metrics around a handler.
void finalize_response(const Request& req, Response& res);
std::string make_request_id();

}  // namespace sales::http

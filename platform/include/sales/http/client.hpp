#pragma once
// A blocking HTTP/1.1 client with a bounded pool of keep-alive connections to one base
// URL, for service-to-service calls made from handler threads. Every call has a deadline.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "sales/http/address_book.hpp"
#include "sales/http/message.hpp"

namespace sales::config {
class Env;
}

namespace sales::http {

// Unresolvable host, connection refused/reset, bad reply, or no answer in time: the call's
// own timeout, or the request's deadline once the call was under way (the callee had time
// and did not answer; a caller names it, as it would one that is down). A deadline that
// passed before the call, or left the callee under 10 ms, is resilience::DeadlineExceeded:
// the caller ran out of time itself.
class ClientError : public std::runtime_error {
 public:
  explicit ClientError(const std::string& what, bool timed_out = false) : std::runtime_error(what), timed_out_(timed_out) {}
  // No answer in time, rather than none at all.
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

 private:
  bool timed_out_;
};

// A kept-alive connection stays with the replica it reached, so replicas added later (an
// autoscaler's, `--scale`) would get only the connections opened after them. One older than
// this is closed when it comes back instead of kept, and its successor is balanced anew
// (kube-proxy per connection; a new connection starts at the next of a name's addresses):
// one connect per connection per half-minute. The service client and the gateway's pools.
inline constexpr std::chrono::milliseconds kMaxConnectionAge{30000};

struct ClientOptions {
  std::string base_url;  // http://host:port
  std::size_t max_idle = 16;
  std::chrono::milliseconds timeout{3000};  // an attempt's lookup, connect and exchange together
  std::size_t body_limit = 8 << 20;
  // Older connections are closed instead of kept (kMaxConnectionAge says why).
  std::chrono::milliseconds max_connection_age = kMaxConnectionAge;
  Resolver resolver;  // empty: the system's (tests pass a fake one)
};

class Client {
 public:
  explicit Client(ClientOptions opts);
  ~Client();
  Response send(Request req);  // fills Host; reuses an idle connection when one is there
  Response get(std::string target, const Headers& extra = {});
  Response post(std::string target, std::string json_body, const Headers& extra = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Splits http://host:port into host and port; throws std::invalid_argument otherwise.
struct Endpoint {
  std::string host;
  std::uint16_t port;
};
Endpoint parse_base_url(const std::string& url);

// The base URL another service is called at, from environment variable `variable`
// (default `fallback`). An invalid URL is reported through env.invalid, so the service
// refuses to start naming it, and `fallback` is returned to keep clients constructible.
std::string base_url_from_env(config::Env& env, const std::string& variable, const std::string& fallback);

// Adds what a call made on behalf of `cause` carries on: its X-Request-Id and, when it has
// one, its traceparent, so one request's calls share a trace.
void forward_trace(const Request& cause, Headers& headers);

}  // namespace sales::http

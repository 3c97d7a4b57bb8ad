#pragma once
// The gateway's client to one upstream service: keep-alive connections reused across
// requests, every exchange bounded by the caller's deadline. A pool belongs to one event
// loop (one thread) and needs no locks.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "sales/http/byte_budget.hpp"
#include "sales/http/client.hpp"
#include "sales/http/message.hpp"

namespace sales::http {

// TooLarge: the upstream answered, with a body past the pool's limit. It works; the answer
// cannot be passed on (nor would it be on a second try).
// Overloaded: the answer would pass the budget for answers held at once (answers_held_in):
// it was read in part and dropped with its connection.
// Malformed: what came back is no HTTP answer, or its head is past kAnswerHeadLimit (no
// service of ours sends one): a broken upstream, counted and retried as a Reset is.
enum class UpstreamFailure { Connect, Timeout, Reset, TooLarge, Overloaded, Malformed };

class UpstreamError : public std::runtime_error {
 public:
  UpstreamError(UpstreamFailure kind, const std::string& what, bool sent = false)
      : std::runtime_error(what), kind_(kind), sent_(sent) {}
  [[nodiscard]] UpstreamFailure kind() const { return kind_; }
  // The whole request was written before it failed, so the upstream may have acted on it;
  // false when it never went out (no address in time, no connection, the write failed).
  [[nodiscard]] bool sent() const { return sent_; }

 private:
  UpstreamFailure kind_;
  bool sent_;
};

class UpstreamPool {
 public:
  // resolver {}: the system's. A connection older than max_connection_age is closed after
  // its exchange instead of kept (kMaxConnectionAge says why).
  UpstreamPool(boost::asio::any_io_executor executor, Endpoint endpoint, std::size_t max_idle,
               std::size_t body_limit = 8 << 20, Resolver resolver = {},
               std::chrono::milliseconds max_connection_age = kMaxConnectionAge);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // Sends the request (target, method, headers, body as given; Host is set) and returns
  // the upstream's response, or throws UpstreamError. `repeatable`: whether the request may
  // be sent twice (the caller's rule, which also decides its retries: the gateway's
  // safe_to_repeat); only then is it sent again on a fresh connection when a reused one
  // turns out closed before any answer, since the first copy may have been applied.
  // `tell_budget`: the request carries X-Request-Budget-Ms, the milliseconds left to
  // `deadline` as it is written (after resolving and connecting), so the upstream stops
  // no later than the caller does; the caller's `req` must not hold one.
  boost::asio::awaitable<Response> send(const Request& req, std::chrono::steady_clock::time_point deadline,
                                        bool repeatable, bool tell_budget = false);
  [[nodiscard]] std::size_t idle() const;
  // Answers are charged to `answers` (which outlives the pool) as their bytes arrive, and
  // hold their charge until destroyed (Response::charge). An answer's bytes past its first
  // `small` leave `reserve` of the budget free: a client that holds large answers unread
  // (writes wait up to 30 s) can fill the rest, but not make every small answer (a single
  // resource, a POST's) fail with it. Without a budget, nothing is counted.
  void answers_held_in(ByteBudget& answers, std::size_t small = 0, std::size_t reserve = 0);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Waits without blocking the loop (backoff between retries).
boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d);

}  // namespace sales::http

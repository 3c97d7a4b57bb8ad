#pragma once
// Kept-alive client connections (the gateway's upstream pool, service-to-service clients):
// one the server closed while it sat idle (a restart, a drain) must not carry a request. A
// POST written into it fails and may not be sent again.
#include <chrono>
#include <memory>
#include <vector>

#include "sales/net/socket_state.hpp"

namespace sales::http::detail {

// Asking the socket costs a system call, so for a request that may be sent again (GET, PUT,
// an Idempotency-Key) only connections idle this long are asked: a busy pool hands out the
// connection it got back last, microseconds ago, and a close racing that is answered by
// sending the request again on a new connection. One that may not be sent again is always asked.
constexpr auto kAskAfterIdle = std::chrono::milliseconds(1);

// Whether a connection made at `born` may go back to the idle pool (kMaxConnectionAge,
// client.hpp, says why connections age out).
inline bool young_enough(std::chrono::steady_clock::time_point born, std::chrono::steady_clock::time_point now,
                         std::chrono::steady_clock::duration max_age) {
  return now - born < max_age;
}

// A request that failed on a reused connection (closed under it, most likely) may be sent
// again on a new one only when it never reached a live server (its write failed), or is
// safe to repeat and no byte of an answer came; never after a timeout. A server may read a
// POST, apply it and die before answering: that one must not run twice.
constexpr bool may_send_again(bool reused, bool timed_out, bool write_failed, bool repeatable, bool answer_began) {
  return reused && !timed_out && !answer_began && (write_failed || repeatable);
}

// Whether a connection may carry the next request once `parser` has its answer: the answer
// ended where the parser says (not at the close) and nothing came after it (bytes left
// over in `buffer` mean the stream is out of step).
template <class Parser, class Buffer>
bool may_keep(const Parser& parser, const Buffer& buffer) {
  return parser.keep_alive() && buffer.size() == 0;
}

// The most recently used connection of `idle` (kept with the newest at the back) that is
// fit to carry a request that may (`repeatable`) or may not be sent again; the unfit ones
// it passes are dropped, which closes them. Null when none is left.
template <class Conn, class FdOf>
std::unique_ptr<Conn> take_fit(std::vector<std::unique_ptr<Conn>>& idle, bool repeatable, FdOf fd_of) {
  const auto now = std::chrono::steady_clock::now();
  while (!idle.empty()) {
    auto conn = std::move(idle.back());
    idle.pop_back();
    if ((repeatable && now - conn->idle_since < kAskAfterIdle) || net::open_and_quiet(fd_of(*conn))) return conn;
  }
  return nullptr;
}

}  // namespace sales::http::detail

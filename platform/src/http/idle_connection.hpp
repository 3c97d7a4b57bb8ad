#pragma once
// Kept-alive client connections (the gateway's upstream pool, service-to-service clients):
// one the server closed while it sat idle (a restart, a drain) must not carry a request. A
// POST written into it fails and may not be sent again.
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

namespace sales::http::detail {

// Asking the socket costs a system call, so for a request that may be sent again (GET, PUT,
// an Idempotency-Key) only connections idle this long are asked: a busy pool hands out the
// connection it got back last, microseconds ago, and a close racing that is answered by
// sending the request again on a new connection. One that may not be sent again is always asked.
constexpr auto kAskAfterIdle = std::chrono::milliseconds(1);

// Open and quiet: nothing to read, no end of stream, no error. Bytes the server sent
// unasked mean the stream is out of step: not usable either.
inline bool open_and_quiet(int fd) {
  char byte = 0;
  auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// Whether a connection idle since `idle_since` may carry the next request.
inline bool fit_for_reuse(int fd, std::chrono::steady_clock::time_point idle_since, bool repeatable,
                          std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
  return (repeatable && now - idle_since < kAskAfterIdle) || open_and_quiet(fd);
}

}  // namespace sales::http::detail

#pragma once
// Whether an idle kept connection can still carry a request: the HTTP clients' pools and
// the PostgreSQL pool ask it before they hand one out.
#include <sys/socket.h>

#include <cerrno>

namespace sales::net {

// Open and quiet: nothing to read, no end of stream, no error. Bytes the server sent
// unasked mean the stream is out of step (or carry its reason for closing): not usable
// either. One non-blocking peek (again if a signal interrupts it).
inline bool open_and_quiet(int fd) {
  char byte = 0;
  ssize_t n = 0;
  do {
    n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);  // a signal says nothing of the socket: ask again
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace sales::net

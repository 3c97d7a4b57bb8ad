#pragma once
// A raw blocking TCP client on the loopback: the test controls every byte it sends and sees
// the server's close.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "sales_test/sockets.hpp"

namespace sales_test {

class RawClient {
 public:
  // receive_buffer_bytes > 0: a small, fixed receive window (no autotuning), so a server
  // writing a large answer to a client that does not read is held up soon. source: the
  // loopback address to connect from (127.0.0.2, say: a peer other than 127.0.0.1).
  explicit RawClient(std::uint16_t port, int receive_buffer_bytes = 0, const char* source = nullptr)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer_bytes > 0) {
      EXPECT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes), 0);
    }
    if (source) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      EXPECT_EQ(::inet_pton(AF_INET, source, &from.sin_addr), 1) << source;
      EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from), 0) << source;
    }
    auto addr = loopback(port);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~RawClient() { ::close(fd_); }
  void send(std::string_view s) { ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }
  // Everything until the peer closes or `wait` passes without a byte; `closed` tells which.
  std::string read_for(std::chrono::milliseconds wait, bool* closed = nullptr) {
    std::string out;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) break;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

 private:
  int fd_;
};

}  // namespace sales_test

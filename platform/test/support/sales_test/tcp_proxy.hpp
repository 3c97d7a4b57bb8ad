#pragma once
// A loopback TCP forwarder that a test can cut, to take the broker or the database away
// from one client (the relay, a consumer, a connection under test) without touching the
// shared RabbitMQ or PostgreSQL or anyone else's sessions.
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sales_test/sockets.hpp"

namespace sales::testing {

class TcpProxy {
 public:
  TcpProxy(std::string upstream_host, int upstream_port)
      : host_(std::move(upstream_host)), upstream_port_(upstream_port) {
    listen_fd_ = sales_test::bound_socket();
    if (::listen(listen_fd_, 16) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("proxy: cannot listen");
    }
    port_ = sales_test::port_of(listen_fd_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TcpProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    cut();
    for (auto& t : pipes_) t.join();
    for (int fd : open_fds_) ::close(fd);
  }

  [[nodiscard]] int port() const { return port_; }

  // Breaks every open connection; with `refuse`, new ones are closed at once too.
  void cut(bool refuse = false) {
    refusing_ = refuse;
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  void allow() { refusing_ = false; }

 private:
  int connect_upstream() {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host_.c_str(), std::to_string(upstream_port_).c_str(), &hints, &res) != 0) return -1;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
    ::freeaddrinfo(res);
    return fd;
  }

  void accept_loop() {
    while (!stopping_) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      int upstream = refusing_ ? -1 : connect_upstream();
      if (upstream < 0) {
        ::close(client);
        continue;
      }
      std::lock_guard lock(mu_);
      open_fds_.push_back(client);
      open_fds_.push_back(upstream);
      pipes_.emplace_back([client, upstream] { pipe(client, upstream); });
    }
  }

  // Copies both ways until either side closes; the fds stay open (cut() may still
  // shut them down) until the proxy ends.
  static void pipe(int a, int b) {
    char buf[16384];
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    while (::poll(fds, 2, -1) > 0) {
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0 || ::send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          ::shutdown(a, SHUT_RDWR);
          ::shutdown(b, SHUT_RDWR);
          return;
        }
      }
    }
  }

  std::string host_;
  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refusing_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> pipes_;
};

}  // namespace sales::testing

// Out of file descriptors, an accept fails at once and keeps failing: the listener pauses
// between tries instead of spinning its thread, and serves the waiting client once it can.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "sales/http/server.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = sales::http;

std::chrono::microseconds cpu_time() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Until destroyed, this process can open no more file descriptors.
class NoMoreDescriptors {
 public:
  NoMoreDescriptors() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    const int lowest_free = ::dup(0);
    ::close(lowest_free);
    rlimit tight = saved_;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    EXPECT_EQ(::dup(0), -1) << "a descriptor could still be opened";
  }
  ~NoMoreDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  NoMoreDescriptors(const NoMoreDescriptors&) = delete;
  NoMoreDescriptors& operator=(const NoMoreDescriptors&) = delete;

 private:
  rlimit saved_{};
};

TEST(ServerAccept, OutOfDescriptorsTheListenerPausesAndServesTheClientOnceItCan) {
  http::ServerOptions o;
  o.threads = 1;
  http::Server server(o, [](http::Request&) { return http::Response::json(200, "{}"); });
  server.start();
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);  // made while it still can be
  ASSERT_GE(client, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port());
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  {
    NoMoreDescriptors limit;
    // The kernel completes the handshake; the server's accept fails with EMFILE.
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    const auto cpu_before = cpu_time();
    std::this_thread::sleep_for(500ms);
    const auto used = cpu_time() - cpu_before;
    EXPECT_LT(used, 150ms) << "the listener's thread spun on the failing accept for "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(used).count() << " ms of 500";
  }
  const std::string request = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  pollfd p{client, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no answer once descriptors were free again";
  char buf[64] = {};
  const auto n = ::recv(client, buf, sizeof buf - 1, 0);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0).rfind("HTTP/1.1 200 ", 0), 0u) << buf;
  ::close(client);
  server.stop();
}

}  // namespace

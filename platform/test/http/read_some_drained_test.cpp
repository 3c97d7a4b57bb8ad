// Its own test binary (platform/CMakeLists.txt): it replaces recv() to count the attempts
// the event loop makes, which no other test should see.
#include "../../src/http/read_some_drained.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace {

std::atomic<int> recv_calls{0};

}  // namespace

// Asio's reads call ::recv (socket_ops::recv1); this definition in the executable comes
// before libc's. The system call itself is unchanged.
extern "C" ssize_t recv(int fd, void* data, size_t size, int flags) {
  recv_calls.fetch_add(1, std::memory_order_relaxed);
  return syscall(SYS_recvfrom, fd, data, size, flags, nullptr, nullptr);
}

namespace sales::http::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Read {
  std::optional<boost::system::error_code> ec;
  std::size_t n = 0;
  auto handler() {
    return [this](boost::system::error_code e, std::size_t got) {
      ec = e;
      n = got;
    };
  }
};

// A connected loopback pair; `reader` non-blocking, as the server and the upstream pool set it.
struct SocketPair {
  asio::io_context loop;
  tcp::socket writer{loop};
  tcp::socket reader{loop};
  char buffer[16] = {};

  SocketPair() {
    tcp::acceptor acceptor(loop, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    writer.connect(acceptor.local_endpoint());
    acceptor.accept(reader);
    reader.non_blocking(true);
  }
  void send(const std::string& bytes) {
    asio::write(writer, asio::buffer(bytes));
    pollfd p{reader.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the bytes never arrived";
  }
  // Runs the loop until `read` has completed, for at most `limit`.
  bool run_until(const Read& read, std::chrono::milliseconds limit = 5000ms) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!read.ec && std::chrono::steady_clock::now() < until) {
      loop.restart();
      loop.run_for(10ms);
    }
    return read.ec.has_value();
  }
  std::string got(const Read& read) const { return std::string(buffer, read.n); }
};

TEST(ReadSomeDrained, AfterAShortReadTheNextReadWaitsForTheSocketWithoutTryingARecv) {
#ifndef SALES_READ_SOME_DRAINED
  GTEST_SKIP() << "plain async_read_some with this Boost or reactor";
#endif
  SocketPair pair;
  pair.send("abc");
  Read first;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), first.handler());
  ASSERT_TRUE(pair.run_until(first));
  ASSERT_FALSE(*first.ec);
  EXPECT_EQ(pair.got(first), "abc");  // 3 of 16 bytes: the socket is empty now

  recv_calls = 0;
  Read second;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), second.handler());
  pair.loop.restart();
  pair.loop.poll();
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(recv_calls.load(), 0) << "the read tried a recv on a socket it knew empty";

  pair.send("defg");
  ASSERT_TRUE(pair.run_until(second)) << "the bytes that came later never reached the read";
  ASSERT_FALSE(*second.ec);
  EXPECT_EQ(pair.got(second), "defg");
  EXPECT_EQ(recv_calls.load(), 1);
}

// The control: the counter sees Asio's own read try a recv at once and fail.
TEST(ReadSomeDrained, AsioOwnReadTriesARecvAtOnceEvenAfterAShortRead) {
  SocketPair pair;
  pair.send("abc");
  Read first;
  pair.reader.async_read_some(asio::buffer(pair.buffer), first.handler());
  ASSERT_TRUE(pair.run_until(first));

  recv_calls = 0;
  Read second;
  pair.reader.async_read_some(asio::buffer(pair.buffer), second.handler());
  EXPECT_EQ(recv_calls.load(), 1);
  pair.send("d");
  ASSERT_TRUE(pair.run_until(second));
  EXPECT_EQ(pair.got(second), "d");
}

// A read that filled its buffer may have left bytes behind: the next read must take them
// at once, without an event that will not come again (epoll is edge-triggered).
TEST(ReadSomeDrained, AReadThatFillsItsBufferLetsTheNextOneTakeTheRestWithoutANewEvent) {
  SocketPair pair;
  Read first;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), first.handler());  // waits: nothing yet
  pair.send(std::string(16, 'a') + std::string(10, 'b'));
  ASSERT_TRUE(pair.run_until(first));
  EXPECT_EQ(pair.got(first), std::string(16, 'a'));

  Read second;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), second.handler());
  ASSERT_TRUE(pair.run_until(second, 2000ms)) << "the rest of the bytes waited for an event";
  EXPECT_EQ(pair.got(second), std::string(10, 'b'));
}

TEST(ReadSomeDrained, ThePeersCloseEndsTheReadWithEndOfStream) {
  SocketPair pair;
  pair.send("xy");
  Read first;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), first.handler());
  ASSERT_TRUE(pair.run_until(first));
  EXPECT_EQ(pair.got(first), "xy");

  Read second;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), second.handler());
  pair.writer.close();
  ASSERT_TRUE(pair.run_until(second));
  EXPECT_EQ(*second.ec, asio::error::eof);
}

TEST(ReadSomeDrained, ClosingTheSocketEndsAWaitingReadAsAborted) {
  SocketPair pair;
  Read read;
  async_read_some_drained(pair.reader, asio::buffer(pair.buffer), read.handler());
  pair.reader.close();  // as the connection's watchdog does at its deadline
  ASSERT_TRUE(pair.run_until(read));
  EXPECT_EQ(*read.ec, asio::error::operation_aborted);
}

TEST(ReadSomeDrained, AReadStillWaitingWhenTheLoopIsDestroyedIsFreedWithoutRunning) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  bool ran = false;
  {
    SocketPair pair;
    async_read_some_drained(pair.reader, asio::buffer(pair.buffer),
                            [&ran, token = std::move(token)](boost::system::error_code, std::size_t) { ran = true; });
  }
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired()) << "the operation and its handler were not freed";
}

}  // namespace
}  // namespace sales::http::detail

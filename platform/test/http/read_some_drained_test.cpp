// Its own test binary (platform/CMakeLists.txt): it replaces recv() and recvmsg() to count
// the attempts the event loop makes, which no other test should see.
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
#include <vector>

namespace {

std::atomic<int> recv_calls{0};

}  // namespace

// Asio's reads call ::recv (socket_ops::recv1), the drained read ::recvmsg; these
// definitions in the executable come before libc's. The system calls are unchanged.
extern "C" ssize_t recv(int fd, void* data, size_t size, int flags) {
  recv_calls.fetch_add(1, std::memory_order_relaxed);
  return syscall(SYS_recvfrom, fd, data, size, flags, nullptr, nullptr);
}
extern "C" ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  recv_calls.fetch_add(1, std::memory_order_relaxed);
  return syscall(SYS_recvmsg, fd, msg, flags);
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

// A connected loopback pair; `reader` non-blocking and with the kernel's hint, as the server
// and the upstream pool set theirs up.
struct SocketPair {
  asio::io_context loop;
  tcp::socket writer{loop};
  tcp::socket reader{loop};
  char buffer[16] = {};

  explicit SocketPair(bool hint = true) {
    tcp::acceptor acceptor(loop, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    writer.connect(acceptor.local_endpoint());
    acceptor.accept(reader);
    reader.non_blocking(true);
    if (hint) enable_drain_hint(reader);
  }
  // Whether the reader's socket shows `events` within 5 s.
  bool shows(short events) {
    pollfd p{reader.native_handle(), events, 0};
    return ::poll(&p, 1, 5000) == 1;
  }
  bool send(const std::string& bytes) {
    asio::write(writer, asio::buffer(bytes));
    return shows(POLLIN);
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
  void read(Read& into) { async_read_some_drained(reader, asio::buffer(buffer), into.handler()); }
  std::string got(const Read& read) const { return std::string(buffer, read.n); }
};

TEST(ReadSomeDrained, AfterAReadThatEmptiedTheSocketTheNextWaitsForItWithoutTryingARecv) {
#ifndef SALES_READ_SOME_DRAINED
  GTEST_SKIP() << "plain async_read_some with this Boost or reactor";
#endif
  SocketPair pair;
  Read first;
  pair.read(first);  // nothing there yet: it waits for the socket
  ASSERT_TRUE(pair.send("abc"));
  ASSERT_TRUE(pair.run_until(first));
  ASSERT_FALSE(*first.ec);
  EXPECT_EQ(pair.got(first), "abc");

  recv_calls = 0;
  Read second;
  pair.read(second);
  pair.loop.restart();
  pair.loop.poll();
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(recv_calls.load(), 0) << "the read tried a recv on a socket it knew empty";

  ASSERT_TRUE(pair.send("defg"));
  ASSERT_TRUE(pair.run_until(second)) << "the bytes that came later never reached the read";
  ASSERT_FALSE(*second.ec);
  EXPECT_EQ(pair.got(second), "defg");
  EXPECT_EQ(recv_calls.load(), 1);
}

// What makes the test above mean something: the counter sees reads that try at once. Asio's
// own read does, and so does the drained read on a socket without the hint.
TEST(ReadSomeDrained, WithoutTheHintAndInAsioOwnReadTheNextReadTriesARecvAtOnce) {
  for (bool asio_read : {true, false}) {
    SCOPED_TRACE(asio_read ? "Asio's async_read_some" : "no hint");
    SocketPair pair(/*hint=*/false);
    auto read = [&](Read& into) {
      if (asio_read) {
        pair.reader.async_read_some(asio::buffer(pair.buffer), into.handler());
      } else {
        pair.read(into);
      }
    };
    Read first;
    read(first);
    ASSERT_TRUE(pair.send("abc"));
    ASSERT_TRUE(pair.run_until(first));

    recv_calls = 0;
    Read second;
    read(second);
    EXPECT_EQ(recv_calls.load(), 1);
    ASSERT_TRUE(pair.send("d"));
    ASSERT_TRUE(pair.run_until(second));
    EXPECT_EQ(pair.got(second), "d");
  }
}

// A read that filled its buffer may have left bytes behind: the next read must take them
// at once, without an event that will not come again (epoll is edge-triggered).
TEST(ReadSomeDrained, AReadThatLeavesBytesBehindLetsTheNextOneTakeThemWithoutANewEvent) {
  SocketPair pair;
  Read first;
  pair.read(first);
  ASSERT_TRUE(pair.send(std::string(16, 'a') + std::string(10, 'b')));
  ASSERT_TRUE(pair.run_until(first));
  EXPECT_EQ(pair.got(first), std::string(16, 'a'));

  Read second;
  pair.read(second);
  ASSERT_TRUE(pair.run_until(second, 2000ms)) << "the rest of the bytes waited for an event";
  EXPECT_EQ(pair.got(second), std::string(10, 'b'));
}

// The peer's last bytes and its FIN arrive together, before the loop looks: one event for
// both, and the read of the bytes must not leave the end of stream waiting for another.
TEST(ReadSomeDrained, AnEndOfStreamQueuedBehindTheLastBytesEndsTheNextReadAtOnce) {
  SocketPair pair;
  Read first;
  pair.read(first);
  asio::write(pair.writer, asio::buffer(std::string("xy")));
  pair.writer.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(pair.shows(POLLRDHUP));
  ASSERT_TRUE(pair.run_until(first));
  EXPECT_EQ(pair.got(first), "xy");

  Read second;
  pair.read(second);
  ASSERT_TRUE(pair.run_until(second, 2000ms)) << "the end of stream waited for an event";
  EXPECT_EQ(*second.ec, asio::error::eof);
}

TEST(ReadSomeDrained, ThePeersLaterCloseEndsAWaitingReadWithEndOfStream) {
  SocketPair pair;
  ASSERT_TRUE(pair.send("xy"));
  Read first;
  pair.read(first);
  ASSERT_TRUE(pair.run_until(first));
  EXPECT_EQ(pair.got(first), "xy");

  Read second;
  pair.read(second);
  pair.writer.close();
  ASSERT_TRUE(pair.run_until(second));
  EXPECT_EQ(*second.ec, asio::error::eof);
}

TEST(ReadSomeDrained, APeersResetEndsAWaitingReadWithConnectionReset) {
  SocketPair pair;
  Read read;
  pair.read(read);
  pair.writer.set_option(asio::socket_base::linger(true, 0));  // close sends a reset
  pair.writer.close();
  ASSERT_TRUE(pair.run_until(read));
  EXPECT_EQ(*read.ec, asio::error::connection_reset);
}

TEST(ReadSomeDrained, AnEmptyBufferCompletesAtOnceWithoutClaimingAnEndOfStream) {
  SocketPair pair;
  ASSERT_TRUE(pair.send("q"));
  Read read;
  async_read_some_drained(pair.reader, asio::mutable_buffer(), read.handler());
  ASSERT_TRUE(pair.run_until(read));
  EXPECT_FALSE(*read.ec);
  EXPECT_EQ(read.n, 0u);
}

TEST(ReadSomeDrained, ClosingTheSocketEndsAWaitingReadAsAborted) {
  SocketPair pair;
  Read read;
  pair.read(read);
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

// Each test's loop may sit where the previous one's was; the reactor it reads through must
// be its own, not the freed one cached for that address. The blocks held between the loops
// take the freed reactor's memory, so the new loop's reactor lies elsewhere.
TEST(ReadSomeDrained, ALoopMadeWhereAnEndedOneWasReadsThroughItsOwnReactor) {
#ifndef SALES_READ_SOME_DRAINED
  GTEST_SKIP() << "plain async_read_some with this Boost or reactor";
#endif
  std::vector<std::unique_ptr<char[]>> held;
  for (int i = 0; i < 3; ++i) {
    alignas(SocketPair) unsigned char place[sizeof(SocketPair)];
    auto* pair = new (place) SocketPair();
    ASSERT_EQ(&reactor_of(pair->reader), &asio::use_service<asio::detail::reactor>(pair->loop));
    Read read;
    pair->read(read);
    ASSERT_TRUE(pair->send("z"));
    EXPECT_TRUE(pair->run_until(read));
    pair->~SocketPair();
    for (int j = 0; j < 64; ++j) held.push_back(std::make_unique<char[]>(sizeof(asio::detail::reactor)));
  }
}

}  // namespace
}  // namespace sales::http::detail

#include "../../src/http/write_now.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <thread>

namespace sales::http::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A connected pair on the loopback: `writer` non-blocking, as write_now requires.
struct SocketPair {
  asio::io_context loop;
  tcp::socket writer{loop};
  tcp::socket reader{loop};

  SocketPair() {
    tcp::acceptor acceptor(loop, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    writer.connect(acceptor.local_endpoint());
    acceptor.accept(reader);
    writer.non_blocking(true);
  }
};

TEST(WriteNow, ASmallMessageLeavesAtOnce) {
  SocketPair pair;
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", body = "hello";
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  boost::system::error_code ec;
  EXPECT_TRUE(write_now(pair.writer, buffers, ec));
  EXPECT_FALSE(ec);
  EXPECT_EQ(buffers[0].size() + buffers[1].size(), 0u);
  std::string got(head.size() + body.size(), '\0');
  asio::read(pair.reader, asio::buffer(got));
  EXPECT_EQ(got, head + body);
}

TEST(WriteNow, WhatTheSocketCannotTakeNowIsLeftInTheBuffersForAnAsyncWrite) {
  SocketPair pair;
  // Far more than a loopback socket's send and receive buffers hold while nobody reads.
  std::string head(1000, 'h'), body(32 << 20, 'b');
  for (std::size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  boost::system::error_code ec;
  EXPECT_FALSE(write_now(pair.writer, buffers, ec));
  EXPECT_FALSE(ec) << "a full socket is not a failure: " << ec.message();
  std::size_t left = buffers[0].size() + buffers[1].size();
  ASSERT_GT(left, 0u);
  ASSERT_LT(left, head.size() + body.size());

  // The rest goes out by an ordinary async_write; the reader gets every byte in order.
  std::string got(head.size() + body.size(), '\0');
  asio::async_write(pair.writer, buffers, [&](boost::system::error_code e, std::size_t n) {
    EXPECT_FALSE(e);
    EXPECT_EQ(n, left);
  });
  asio::async_read(pair.reader, asio::buffer(got), [](boost::system::error_code e, std::size_t) { EXPECT_FALSE(e); });
  pair.loop.run();
  EXPECT_TRUE(got == head + body);
}

TEST(WriteNow, AClosedPeerIsAFailure) {
  SocketPair pair;
  pair.reader.close();
  std::string head(1000, 'h');
  std::array<asio::const_buffer, 1> buffers{asio::buffer(head)};
  boost::system::error_code ec;
  // The first write may still be taken by the kernel; a reset peer fails one after it.
  bool done = true;
  for (int i = 0; i < 100 && !ec; ++i) {
    buffers[0] = asio::buffer(head);
    done = write_now(pair.writer, buffers, ec);
    if (!ec) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(ec);
  EXPECT_FALSE(done);
}

}  // namespace
}  // namespace sales::http::detail

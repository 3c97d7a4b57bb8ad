#pragma once
// A message's head and body written at once when the socket takes them, which it does for
// a message of a few kB on a socket whose send buffer has room: the usual case. Asio's
// async_write makes the same system call at once too, but its completion still goes through
// the event loop's queue (a lock, a queued operation, an awaitable frame, resuming the
// coroutine): twice per proxied request, that showed in the gateway's profile.
//
// The socket must be in non-blocking mode (socket.non_blocking(true)): a blocking one would
// wait here, holding up every other connection of the loop. Included only by translation
// units that already hold Asio (server.cpp, upstream.cpp).
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <algorithm>
#include <array>

namespace sales::http::detail {

// Writes what the socket takes now and moves `buffers` past it. True when nothing is left;
// false when the rest must wait for the socket (an async_write of `buffers` sends it) or
// when the write failed (`ec`).
template <std::size_t N>
bool write_now(boost::asio::ip::tcp::socket& socket, std::array<boost::asio::const_buffer, N>& buffers,
               boost::system::error_code& ec) {
  std::size_t written = socket.write_some(buffers, ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again ||
      ec == boost::asio::error::interrupted) {
    ec = {};  // not a failure: the socket is full for now
  }
  std::size_t left = 0;
  for (auto& b : buffers) {
    auto taken = std::min(written, b.size());
    b += taken;
    written -= taken;
    left += b.size();
  }
  return !ec && left == 0;
}

}  // namespace sales::http::detail

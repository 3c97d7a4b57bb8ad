#pragma once
// Reads an HTTP message with Beast's parser but without Beast's composed read operations:
// every step of those copies a type-erased executor and counts outstanding work, which
// showed in the gateway's profile. A plain loop of read_some + parser.put on the
// coroutine does the same work. Included only by translation units that already hold
// Beast's templates (server.cpp, upstream.cpp); the buffers' sizes are in buffer_sizes.hpp.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "buffer_sizes.hpp"

namespace sales::http::detail {

enum class ReadUntil { Header, Message };

// The peer sent bytes that are no HTTP message (or a head past its limit): the parser's own
// error, not the connection closing before or in the middle of one.
inline bool malformed(const boost::beast::error_code& ec) {
  namespace bhttp = boost::beast::http;
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// Errors as beast::http::async_read gives them: end_of_stream when the peer closed before
// a byte of the message, partial_message when it closed in the middle, the parser's own
// (header_limit, body_limit, bad_*), or the socket's. A buffer full of what the parser cannot
// consume yet (buffer_sizes.hpp, read_buffer_limit) is header_limit before the header is
// done and bad_chunk after it (an endless chunk-size line or trailer section).
// `on_first_bytes` runs once, when a read brings the first bytes into an empty buffer: the
// server's cue that a connection waiting for its next request has begun to send one.
// `on_read(n)` runs after every read of n bytes; when it says false the read ends with
// no_buffer_space (the server's budget for bodies is spent).
template <class Parser, class OnFirstBytes = void (*)(), class OnRead = bool (*)(std::size_t)>
boost::asio::awaitable<boost::beast::error_code> read_message(
    boost::asio::ip::tcp::socket& socket, boost::beast::flat_buffer& buffer, Parser& parser, ReadUntil until,
    OnFirstBytes on_first_bytes = [] {}, OnRead on_read = [](std::size_t) { return true; }) {
  namespace bhttp = boost::beast::http;
  auto done = [&] { return until == ReadUntil::Header ? parser.is_header_done() : parser.is_done(); };
  if (until == ReadUntil::Message) parser.eager(true);
  boost::beast::error_code ec;
  bool waiting_for_bytes = buffer.size() == 0;
  for (;;) {
    while (!done() && buffer.size() > 0) {
      auto used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec) co_return ec;
      if (used == 0) break;
    }
    if (done()) co_return ec;
    if (buffer.size() >= buffer.max_size()) {
      co_return parser.is_header_done() ? bhttp::error::bad_chunk : bhttp::error::header_limit;
    }
    auto [rec, n] = co_await socket.async_read_some(buffer.prepare(boost::beast::read_size(buffer, kMaxReadBytes)),
                                                    boost::asio::as_tuple(boost::asio::use_awaitable));
    if (rec == boost::asio::error::eof) {
      if (!parser.got_some()) co_return bhttp::error::end_of_stream;
      parser.put_eof(ec);  // completes a message delimited by the close, else partial_message
      co_return ec;
    }
    if (rec) co_return rec;
    buffer.commit(n);
    if (!on_read(n)) co_return boost::asio::error::no_buffer_space;
    if (waiting_for_bytes && n > 0) {
      waiting_for_bytes = false;
      on_first_bytes();
    }
  }
}

}  // namespace sales::http::detail

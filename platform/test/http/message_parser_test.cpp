// The parser's body buffer: a body declared long takes memory as its bytes arrive, not at
// its first byte, since the server's budget of bodies held counts arrived bytes.
#include "../../src/http/message_parser.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <string>

namespace sales::http {
namespace {

// Feeds `bytes` to the parser as a server's read would; the error, if any, but need_more.
boost::beast::error_code feed(detail::MessageParser<true>& parser, std::string_view bytes) {
  boost::beast::error_code ec;
  while (!bytes.empty()) {
    const auto used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == boost::beast::http::error::need_more) ec = {};
    if (ec || used == 0) break;
    bytes.remove_prefix(used);
  }
  return ec;
}

std::string post_head(std::size_t content_length) {
  return "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

TEST(MessageParser, ABodyDeclaredLongTakesMemoryAsItArrivesNotAtItsFirstByte) {
  detail::MessageParser<true> parser;
  parser.body_limit(8 * 1024 * 1024);
  parser.eager(true);
  ASSERT_FALSE(feed(parser, post_head(4 * 1024 * 1024) + "b"));
  EXPECT_EQ(parser.get().body, "b");
  EXPECT_LE(parser.get().body.capacity(), 2 * detail::kBodyReservedUpFront)
      << "one byte of a 4 MiB body held the whole of it";
}

TEST(MessageParser, ABodyLongerThanTheFirstReservationArrivesWhole) {
  detail::MessageParser<true> parser;
  parser.body_limit(8 * 1024 * 1024);
  parser.eager(true);
  std::string body(3 * detail::kBodyReservedUpFront + 17, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  ASSERT_FALSE(feed(parser, post_head(body.size())));
  for (std::size_t at = 0; at < body.size(); at += 1000) ASSERT_FALSE(feed(parser, std::string_view(body).substr(at, 1000)));
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body, body);
}

}  // namespace
}  // namespace sales::http

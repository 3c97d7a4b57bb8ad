// The read buffers' sizes stand alone: a translation unit that only sizes a buffer (the
// service client) includes them without Asio's or Beast's read machinery. Included first,
// so that nothing else in this file could have brought those in.
#include "../../src/http/buffer_sizes.hpp"

#include <gtest/gtest.h>

namespace sales::http::detail {
namespace {

TEST(BufferSizes, TheHeaderBringsInNoReadLogic) {
#if defined(BOOST_ASIO_HPP) || defined(BOOST_ASIO_AWAITABLE_HPP) || defined(BOOST_BEAST_CORE_HPP) || \
    defined(BOOST_BEAST_HTTP_HPP) || defined(BOOST_BEAST_HTTP_PARSER_HPP)
  ADD_FAILURE() << "buffer_sizes.hpp includes Asio or Beast";
#endif
}

TEST(BufferSizes, BuffersAreLargerThanBeastsSmallestRead) {
  // Beast reads at least 512 bytes; a reserve below that would change nothing.
  EXPECT_GT(kRequestBufferBytes, 512u);
  // A page of 20 products (3.9 kB) is read in one system call.
  EXPECT_GE(kReadBufferBytes, 4096u);
  EXPECT_LE(kRequestBufferBytes, kReadBufferBytes) << "a server may hold thousands of connections";
}

}  // namespace
}  // namespace sales::http::detail

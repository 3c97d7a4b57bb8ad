#include "../../src/http/client_connections.hpp"

#include <gtest/gtest.h>

namespace {

using sales::http::detail::ClientConnections;

TEST(ClientConnections, AClientHoldsAtMostItsShareAndGetsPlacesBack) {
  ClientConnections held(2);
  EXPECT_TRUE(held.enter("203.0.113.7"));
  EXPECT_TRUE(held.enter("203.0.113.7"));
  EXPECT_FALSE(held.enter("203.0.113.7")) << "a third connection of the same client";
  EXPECT_TRUE(held.enter("2001:db8::")) << "another client has its own share";
  held.leave("203.0.113.7");
  EXPECT_TRUE(held.enter("203.0.113.7")) << "a place given back is taken again";
  EXPECT_FALSE(held.enter("203.0.113.7"));
}

TEST(ClientConnections, AClientGoneLeavesNothingBehind) {
  ClientConnections held(4);
  for (int i = 0; i < 100; ++i) {
    const std::string client = "198.51.100." + std::to_string(i);
    ASSERT_TRUE(held.enter(client));
    held.leave(client);
  }
  EXPECT_EQ(held.clients(), 0u) << "one entry per client that ever came would grow without end";
  held.leave("192.0.2.1");  // never entered: nothing to give back, nothing breaks
  EXPECT_EQ(held.clients(), 0u);
}

}  // namespace

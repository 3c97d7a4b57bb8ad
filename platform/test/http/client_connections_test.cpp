#include "../../src/http/client_connections.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace {

using sales::http::detail::ClientConnections;
using sales::http::detail::ClientPlace;

TEST(ClientConnections, AClientHoldsAtMostItsShareAndGetsPlacesBack) {
  ClientConnections held(2);
  auto first = held.take("203.0.113.7");
  std::optional<ClientPlace> second = held.take("203.0.113.7");
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(held.take("203.0.113.7")) << "a third connection of the same client";
  EXPECT_TRUE(held.take("2001:db8::")) << "another client has its own share";
  second.reset();
  auto again = held.take("203.0.113.7");
  EXPECT_TRUE(again) << "a place given back is taken again";
  EXPECT_FALSE(held.take("203.0.113.7"));
}

TEST(ClientConnections, APlaceMovedIsGivenBackOnceAndAClientGoneLeavesNothingBehind) {
  ClientConnections held(1);
  {
    std::vector<ClientPlace> places;
    for (int i = 0; i < 100; ++i) places.push_back(*held.take("198.51.100." + std::to_string(i)));  // moved twice
    EXPECT_EQ(held.clients(), 100u);
    ClientPlace reassigned = std::move(places[0]);
    reassigned = std::move(places[1]);  // gives 198.51.100.0's back
    EXPECT_TRUE(held.take("198.51.100.0"));
    EXPECT_FALSE(held.take("198.51.100.1")) << "moved, not given back";
  }
  EXPECT_EQ(held.clients(), 0u) << "one entry per client that ever came would grow without end";
}

}  // namespace

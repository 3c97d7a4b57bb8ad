// The byte budget: what it takes, what it gives back, and the reserve that larger holders
// leave free for smaller ones (the gateway's small answers).
#include "sales/http/byte_budget.hpp"

#include <gtest/gtest.h>

namespace sales::http {
namespace {

TEST(ByteBudget, HoldsTakeUpToTheLimitAndGiveBackWhenDestroyed) {
  ByteBudget budget(100);
  {
    auto a = budget.hold();
    EXPECT_TRUE(a.grow(60));
    auto b = budget.hold();
    EXPECT_FALSE(b.grow(41)) << "past the limit";
    EXPECT_TRUE(b.grow(40));
    EXPECT_EQ(budget.held(), 100u);
    EXPECT_FALSE(b.grow(1));
  }
  EXPECT_EQ(budget.held(), 0u);
}

TEST(ByteBudget, AReserveKeptFreeByOneHoldIsUsedByAnother) {
  ByteBudget budget(100);
  auto large = budget.hold();
  EXPECT_TRUE(large.grow(70, /*keep_free=*/20));
  EXPECT_FALSE(large.grow(11, 20)) << "would leave less than 20 free";
  EXPECT_TRUE(large.grow(10, 20));
  auto small = budget.hold();
  EXPECT_TRUE(small.grow(15)) << "the reserve is for holds that keep none free";
  EXPECT_FALSE(large.grow(1, 20)) << "the reserve in use: nothing more for the large one";
  EXPECT_TRUE(small.grow(5));
  EXPECT_FALSE(small.grow(1)) << "the limit still holds";
  EXPECT_EQ(budget.held(), 100u);
  ByteBudget tiny(10);
  EXPECT_FALSE(tiny.hold().grow(1, 50)) << "a reserve larger than the limit leaves nothing";
}

}  // namespace
}  // namespace sales::http

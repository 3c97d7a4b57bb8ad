// Reconnect pacing: short steps until the first connection, exponential to the cap after.
#include "../../src/events/backoff.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace sales::events::detail {
namespace {

using std::chrono::milliseconds;

// Jitter draws from [base/2, base], so the largest of many draws bounds the step's base.
milliseconds largest_of(Backoff& b, int draws) {
  milliseconds most{0};
  for (int i = 0; i < draws; ++i) most = std::max(most, b.next());
  return most;
}

TEST(BackoffTest, BeforeTheFirstSuccessNoPauseExceedsTheStartUpCap) {
  Backoff b(milliseconds(200), milliseconds(10000));
  EXPECT_LE(largest_of(b, 50), Backoff::kFirstConnectMax);
}

TEST(BackoffTest, AfterASuccessPausesGrowPastTheStartUpCapToTheMax) {
  Backoff b(milliseconds(200), milliseconds(10000));
  b.next();
  b.reset();  // connected once
  const milliseconds first = b.next();
  EXPECT_GE(first, milliseconds(100));
  EXPECT_LE(first, milliseconds(200));
  const milliseconds later = largest_of(b, 30);  // 200 · 2^k reaches the 10 s cap
  EXPECT_GT(later, Backoff::kFirstConnectMax);
  EXPECT_LE(later, milliseconds(10000));
  EXPECT_GE(b.next(), milliseconds(5000));  // at the cap, jitter halves at most
}

TEST(BackoffTest, ABrokerThatStaysAwayGetsTheNormalBackoffAfterTheStartUpTries) {
  Backoff b(milliseconds(200), milliseconds(10000));
  for (int i = 0; i < Backoff::kFirstConnectTries; ++i) EXPECT_LE(b.next(), Backoff::kFirstConnectMax);
  EXPECT_GE(b.next(), milliseconds(5000)) << "still retrying twice a second after the start-up tries";
}

TEST(BackoffTest, AMaxBelowTheStartUpCapStillBinds) {
  Backoff b(milliseconds(50), milliseconds(120));
  EXPECT_LE(largest_of(b, 20), milliseconds(120));
}

}  // namespace
}  // namespace sales::events::detail

#include "sales/resilience/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sales::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int allowed_in_a_row(RateLimiter& limiter, std::string_view key) {
  int allowed = 0;
  while (limiter.check(key).allowed) ++allowed;
  return allowed;
}

class RateLimiterTest : public ::testing::Test {
 protected:
  FakeClock clock;
  RateLimiterConfig seed_policy;  // the defaults: 100 per 900000 ms
};

TEST_F(RateLimiterTest, FreshKeyGetsTheFullBucket) {
  RateLimiter limiter(seed_policy, clock);
  const auto decision = limiter.check("10.0.0.1");
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.limit, 100U);
  EXPECT_EQ(decision.remaining, 99U);
  EXPECT_EQ(decision.reset_seconds, 9);  // one token refills every 9 s
  EXPECT_EQ(decision.retry_after_seconds, 0);
}

TEST_F(RateLimiterTest, SeedPolicyAllowsABurstOfMaxThenRefuses) {
  RateLimiter limiter(seed_policy, clock);
  for (int i = 0; i < 99; ++i) ASSERT_TRUE(limiter.check("client").allowed) << i;
  const auto last = limiter.check("client");
  EXPECT_TRUE(last.allowed);
  EXPECT_EQ(last.remaining, 0U);
  EXPECT_EQ(last.reset_seconds, 900);

  const auto refused = limiter.check("client");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0U);
  EXPECT_EQ(refused.retry_after_seconds, 9);
  EXPECT_EQ(refused.reset_seconds, 900);
}

TEST_F(RateLimiterTest, RefillsContinuouslyOverTime) {
  RateLimiter limiter(seed_policy, clock);
  ASSERT_EQ(allowed_in_a_row(limiter, "client"), 100);

  clock.advance(milliseconds(4500));  // half a token back
  const auto early = limiter.check("client");
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after_seconds, 5);  // 4.5 s, rounded up

  clock.advance(milliseconds(4500));  // one whole token
  EXPECT_EQ(allowed_in_a_row(limiter, "client"), 1);

  clock.advance(seconds(90));  // ten tokens
  EXPECT_EQ(allowed_in_a_row(limiter, "client"), 10);
}

TEST_F(RateLimiterTest, NeverHoldsMoreThanMax) {
  RateLimiter limiter(seed_policy, clock);
  (void)limiter.check("client");
  clock.advance(std::chrono::hours(24));
  EXPECT_EQ(allowed_in_a_row(limiter, "client"), 100);
}

TEST_F(RateLimiterTest, SmallWindowArithmetic) {
  RateLimiter limiter({.max = 10, .window = seconds(1), .max_keys = 10}, clock);
  EXPECT_EQ(allowed_in_a_row(limiter, "k"), 10);
  const auto refused = limiter.check("k");
  EXPECT_EQ(refused.retry_after_seconds, 1);  // 100 ms, but never less than 1 s
  EXPECT_EQ(refused.reset_seconds, 1);
  clock.advance(milliseconds(350));
  EXPECT_EQ(allowed_in_a_row(limiter, "k"), 3);
}

TEST_F(RateLimiterTest, KeysAreIndependent) {
  RateLimiter limiter(seed_policy, clock);
  ASSERT_EQ(allowed_in_a_row(limiter, "a"), 100);
  EXPECT_TRUE(limiter.check("b").allowed);
  EXPECT_FALSE(limiter.check("a").allowed);
  const auto snapshot = limiter.snapshot();
  EXPECT_EQ(snapshot.keys, 2U);
  EXPECT_EQ(snapshot.allowed, 101U);
  EXPECT_EQ(snapshot.refused, 2U);  // allowed_in_a_row's last try and the one above
}

TEST_F(RateLimiterTest, FullTablePrefersEvictingAFullBucket) {
  RateLimiter limiter({.max = 10, .window = seconds(10), .max_keys = 3}, clock);
  for (int i = 0; i < 5; ++i) (void)limiter.check("busy-1");  // full again at +5 s, the coldest key
  clock.advance(seconds(1));
  (void)limiter.check("idle");  // full again at +2 s
  for (int i = 0; i < 5; ++i) (void)limiter.check("busy-2");
  clock.advance(seconds(2));

  (void)limiter.check("newcomer");  // the table is full: "idle" goes, not the colder "busy-1"
  const auto snapshot = limiter.snapshot();
  EXPECT_EQ(snapshot.keys, 3U);
  EXPECT_EQ(snapshot.evicted_idle, 1U);
  EXPECT_EQ(snapshot.evicted_active, 0U);
  EXPECT_EQ(limiter.check("busy-1").remaining, 7U);  // kept its history: 2 s of debt left
}

TEST_F(RateLimiterTest, FullTableOfBusyKeysEvictsTheLeastRecentlyUsed) {
  RateLimiter limiter({.max = 10, .window = seconds(10), .max_keys = 3}, clock);
  for (const char* key : {"a", "b", "c", "a"}) (void)limiter.check(key);  // coldest: b
  (void)limiter.check("d");
  auto snapshot = limiter.snapshot();
  EXPECT_EQ(snapshot.keys, 3U);
  EXPECT_EQ(snapshot.evicted_active, 1U);
  EXPECT_EQ(limiter.check("a").remaining, 7U);  // a kept its two earlier requests
  EXPECT_EQ(limiter.check("b").remaining, 9U);  // b was forgotten and starts full
}

TEST_F(RateLimiterTest, IdleBucketsAreDroppedAsTrafficMovesOn) {
  RateLimiter limiter(seed_policy, clock);
  for (int i = 0; i < 5; ++i) (void)limiter.check("client-" + std::to_string(i));
  EXPECT_EQ(limiter.snapshot().keys, 5U);
  clock.advance(seconds(9));  // each of those buckets is full again
  (void)limiter.check("other");
  (void)limiter.check("other");
  (void)limiter.check("other");
  EXPECT_EQ(limiter.snapshot().keys, 1U);
  EXPECT_EQ(limiter.snapshot().evicted_idle, 5U);
}

TEST_F(RateLimiterTest, FloodOfDistinctKeysStaysBounded) {
  RateLimiter limiter({.max = 100, .window = seconds(60), .max_keys = 1000}, clock);
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(limiter.check("flood-" + std::to_string(i)).allowed);
    ASSERT_LE(limiter.snapshot().keys, 1000U);
  }
  EXPECT_EQ(limiter.snapshot().evicted_active, 19000U);
}

TEST_F(RateLimiterTest, ConcurrentChecksNeverOverspend) {
  RateLimiter limiter(seed_policy, clock);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.check("shared").allowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 100);
}

TEST_F(RateLimiterTest, RejectsNonsenseConfig) {
  EXPECT_THROW(RateLimiter({.max = 0}, clock), std::invalid_argument);
  EXPECT_THROW(RateLimiter({.max = 10, .window = Duration::zero()}, clock), std::invalid_argument);
  EXPECT_THROW(RateLimiter({.max = 10, .window = seconds(1), .max_keys = 0}, clock), std::invalid_argument);
  EXPECT_THROW(RateLimiter({.max = 1000, .window = Duration{10}}, clock), std::invalid_argument);
}

TEST(RateLimitHeadersTest, FormatsTheDraftFields) {
  const RateLimiterConfig seed_policy;
  EXPECT_EQ(rate_limit_policy_value(seed_policy), "\"default\";q=100;w=900");
  EXPECT_EQ(rate_limit_policy_value({.max = 5, .window = milliseconds(1500)}, "burst"), "\"burst\";q=5;w=2");

  const RateLimitDecision allowed{.allowed = true, .limit = 100, .remaining = 42, .reset_seconds = 522};
  EXPECT_EQ(rate_limit_value(allowed), "\"default\";r=42;t=522");

  const RateLimitDecision refused{.limit = 100, .reset_seconds = 900, .retry_after_seconds = 9};
  EXPECT_EQ(rate_limit_value(refused), "\"default\";r=0;t=900");
  EXPECT_EQ(rate_limit_value(refused, {}), "\"\";r=0;t=900") << "an empty policy name is still quoted";
  const RateLimiterConfig large{.max = 1'000'000'000, .window = milliseconds(86'400'000)};
  EXPECT_EQ(rate_limit_policy_value(large, "a-much-longer-policy-name"),
            "\"a-much-longer-policy-name\";q=1000000000;w=86400");
}

}  // namespace
}  // namespace sales::resilience

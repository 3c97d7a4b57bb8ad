#include "sales/resilience/retry_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sales::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Grants retries until refused (or `limit` reached), returning how many were granted.
int drain(RetryBudget& budget, int limit = 100000) {
  int granted = 0;
  while (granted < limit && budget.try_acquire_retry()) ++granted;
  return granted;
}

void record_requests(RetryBudget& budget, int count) {
  for (int i = 0; i < count; ++i) budget.record_request();
}

class RetryBudgetTest : public ::testing::Test {
 protected:
  FakeClock clock;
  RetryBudgetConfig config;  // 20 %, floor 3/s over a 10 s window in 10 buckets
};

TEST_F(RetryBudgetTest, FloorLetsQuietTrafficRetry) {
  RetryBudget budget(config, clock);
  record_requests(budget, 1);
  EXPECT_EQ(drain(budget), 30);  // 3 per second over 10 s
  EXPECT_FALSE(budget.try_acquire_retry());
}

TEST_F(RetryBudgetTest, PercentageOfRequestsAboveTheFloor) {
  RetryBudget budget(config, clock);
  record_requests(budget, 1000);
  EXPECT_EQ(drain(budget), 200);
  const auto snapshot = budget.snapshot();
  EXPECT_EQ(snapshot.requests_in_window, 1000U);
  EXPECT_EQ(snapshot.retries_in_window, 200U);
  EXPECT_EQ(snapshot.retry_allowance, 200U);
}

TEST_F(RetryBudgetTest, FloorWinsWhenThePercentageIsSmaller) {
  RetryBudget budget(config, clock);
  record_requests(budget, 100);  // 20 % is 20 < 30
  EXPECT_EQ(drain(budget), 30);
}

TEST_F(RetryBudgetTest, NoFloorMeansPureShare) {
  config.min_retries_per_second = 0;
  RetryBudget budget(config, clock);
  EXPECT_FALSE(budget.try_acquire_retry());
  record_requests(budget, 14);  // 20 % of 14 is 2.8: two whole retries
  EXPECT_EQ(drain(budget), 2);
  record_requests(budget, 1);
  EXPECT_EQ(drain(budget), 1);
}

TEST_F(RetryBudgetTest, MoreTrafficRenewsTheBudget) {
  RetryBudget budget(config, clock);
  record_requests(budget, 500);
  EXPECT_EQ(drain(budget), 100);
  record_requests(budget, 500);
  EXPECT_EQ(drain(budget), 100);
}

TEST_F(RetryBudgetTest, OldTrafficSlidesOutBucketByBucket) {
  config.min_retries_per_second = 0;
  RetryBudget budget(config, clock);
  record_requests(budget, 500);  // bucket 0
  clock.advance(seconds(5));
  record_requests(budget, 500);   // bucket 5
  EXPECT_EQ(drain(budget), 200);  // counted in bucket 5

  clock.advance(seconds(5) - milliseconds(1));  // 9.999 s: bucket 0 still inside
  EXPECT_EQ(budget.snapshot().requests_in_window, 1000U);
  EXPECT_FALSE(budget.try_acquire_retry());

  clock.advance(milliseconds(1));  // 10 s: bucket 0 has left, 500 requests and 200 retries remain
  EXPECT_EQ(budget.snapshot().requests_in_window, 500U);
  EXPECT_FALSE(budget.try_acquire_retry());  // 200 retries already exceed 20 % of 500

  clock.advance(seconds(5));  // 15 s: bucket 5 has left too
  const auto snapshot = budget.snapshot();
  EXPECT_EQ(snapshot.requests_in_window, 0U);
  EXPECT_EQ(snapshot.retries_in_window, 0U);
  record_requests(budget, 10);
  EXPECT_EQ(drain(budget), 2);
}

TEST_F(RetryBudgetTest, LongSilenceForgetsEverything) {
  RetryBudget budget(config, clock);
  record_requests(budget, 1000);
  EXPECT_EQ(drain(budget), 200);
  clock.advance(std::chrono::hours(3));  // many laps of the ring: stale buckets must not count
  const auto snapshot = budget.snapshot();
  EXPECT_EQ(snapshot.requests_in_window, 0U);
  EXPECT_EQ(snapshot.retries_in_window, 0U);
  EXPECT_EQ(drain(budget), 30);
}

TEST_F(RetryBudgetTest, ARefusalIsRememberedForTwoBuckets) {
  RetryBudget budget(config, clock);
  EXPECT_FALSE(budget.refused_lately());
  EXPECT_EQ(drain(budget, 30), 30);
  EXPECT_FALSE(budget.refused_lately()) << "only a refusal counts, not the last grant";
  EXPECT_FALSE(budget.try_acquire_retry());
  EXPECT_TRUE(budget.refused_lately());
  clock.advance(milliseconds(1999));  // still the next bucket
  EXPECT_TRUE(budget.refused_lately());
  clock.advance(milliseconds(1));
  EXPECT_FALSE(budget.refused_lately());
}

TEST_F(RetryBudgetTest, CountsAttemptsGrantsAndRefusals) {
  RetryBudget budget(config, clock);
  EXPECT_EQ(drain(budget), 30);
  EXPECT_FALSE(budget.try_acquire_retry());
  const auto snapshot = budget.snapshot();
  EXPECT_EQ(snapshot.retries_attempted, 32U);  // drain's refused try plus the explicit one
  EXPECT_EQ(snapshot.retries_granted, 30U);
  EXPECT_EQ(snapshot.retries_refused, 2U);
}

TEST_F(RetryBudgetTest, ARetryGivenBackUnsentFreesItsPlace) {
  RetryBudget budget(config, clock);
  EXPECT_EQ(drain(budget, 29), 29);
  RetryGrant last = budget.try_acquire_retry();
  ASSERT_TRUE(last);
  EXPECT_FALSE(budget.try_acquire_retry());
  budget.give_back(last);
  EXPECT_EQ(budget.snapshot().retries_in_window, 29U);
  EXPECT_EQ(budget.snapshot().retries_returned, 1U);
  EXPECT_TRUE(budget.try_acquire_retry()) << "the place the unsent retry held";
  EXPECT_FALSE(budget.try_acquire_retry());
  budget.give_back(RetryGrant{});  // a refusal has nothing to give back
  EXPECT_EQ(budget.snapshot().retries_returned, 1U);
}

TEST_F(RetryBudgetTest, AGrantFromAnEarlierLapOfTheRingTakesNothingFromTheNewOne) {
  RetryBudget budget(config, clock);
  RetryGrant old = budget.try_acquire_retry();
  ASSERT_TRUE(old);
  clock.advance(seconds(10));  // the same bucket of the ring, a slice of time one window later
  ASSERT_TRUE(budget.try_acquire_retry());
  budget.give_back(old);
  EXPECT_EQ(budget.snapshot().retries_in_window, 1U) << "the new slice's retry still counts";
  EXPECT_EQ(budget.snapshot().retries_returned, 0U);
}

TEST_F(RetryBudgetTest, AGrantThatLeftTheWindowIsNotCountedAsReturned) {
  RetryBudget budget(config, clock);
  RetryGrant old = budget.try_acquire_retry();
  ASSERT_TRUE(old);
  clock.advance(seconds(10));  // its bucket is out of the window, not yet reused
  budget.give_back(old);
  EXPECT_EQ(budget.snapshot().retries_returned, 0U);
  EXPECT_EQ(budget.snapshot().retries_in_window, 0U);
}

TEST_F(RetryBudgetTest, RejectsNonsenseConfig) {
  RetryBudgetConfig no_buckets = config;
  no_buckets.buckets = 0;
  EXPECT_THROW(RetryBudget(no_buckets, clock), std::invalid_argument);
  RetryBudgetConfig negative = config;
  negative.budget_percent = -1;
  EXPECT_THROW(RetryBudget(negative, clock), std::invalid_argument);
}

// Runs `work` on four threads started together.
template <class Work>
void on_four_threads(Work work) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      work();
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
}

// record_request takes no lock: every request must still be counted, in its own bucket.
TEST_F(RetryBudgetTest, ConcurrentRequestsAreCountedExactly) {
  RetryBudget budget(config, clock);
  on_four_threads([&] { record_requests(budget, 25'000); });
  EXPECT_EQ(budget.snapshot().requests_in_window, 100'000U);
  clock.advance(seconds(5));
  on_four_threads([&] { record_requests(budget, 1'000); });
  EXPECT_EQ(budget.snapshot().requests_in_window, 104'000U);
  clock.advance(seconds(5));  // the first 100,000 leave the window
  EXPECT_EQ(budget.snapshot().requests_in_window, 4'000U);
  clock.advance(seconds(5));
  EXPECT_EQ(budget.snapshot().requests_in_window, 0U);
}

TEST_F(RetryBudgetTest, ConcurrentRetriesNeverExceedTheAllowance) {
  RetryBudget budget(config, clock);
  record_requests(budget, 1000);  // 20 % of 1000: 200 retries
  std::atomic<int> granted{0};
  on_four_threads([&] {
    for (int i = 0; i < 1000; ++i) {
      if (budget.try_acquire_retry()) ++granted;
      budget.record_request();  // traffic keeps arriving meanwhile
    }
  });
  const auto snapshot = budget.snapshot();
  EXPECT_EQ(snapshot.requests_in_window, 5000U);
  EXPECT_EQ(snapshot.retries_granted, static_cast<std::uint64_t>(granted.load()));
  EXPECT_LE(snapshot.retries_in_window, snapshot.retry_allowance);
  EXPECT_GE(granted.load(), 200);
}

}  // namespace
}  // namespace sales::resilience

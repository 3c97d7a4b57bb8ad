#include "sales/resilience/retry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace sales::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryBackoffTest, StaysWithinTheExponentialCeiling) {
  const RetryPolicy policy;  // base 100 ms, max 2 s
  RetryRng rng(42);
  const std::vector<Duration> ceilings = {milliseconds(100), milliseconds(200),  milliseconds(400),
                                          milliseconds(800), milliseconds(1600), seconds(2),
                                          seconds(2)};
  for (int retries_done = 0; retries_done < static_cast<int>(ceilings.size()); ++retries_done) {
    Duration longest = Duration::zero();
    for (int draw = 0; draw < 2000; ++draw) {
      const Duration delay = policy.backoff(retries_done, rng);
      ASSERT_GE(delay, Duration::zero());
      ASSERT_LE(delay, ceilings[retries_done]) << "retries_done " << retries_done;
      longest = std::max(longest, delay);
    }
    // Full jitter uses the whole range, not just its bottom.
    EXPECT_GT(longest, ceilings[retries_done] * 9 / 10) << "retries_done " << retries_done;
  }
}

TEST(RetryBackoffTest, IsJitteredNotConstant) {
  const RetryPolicy policy;
  RetryRng rng(7);
  std::set<Duration::rep> distinct;
  for (int i = 0; i < 50; ++i) distinct.insert(policy.backoff(2, rng).count());
  EXPECT_GT(distinct.size(), 45U);
}

TEST(RetryBackoffTest, SameSeedSameDelays) {
  const RetryPolicy policy;
  RetryRng first(1234);
  RetryRng second(1234);
  RetryRng other(4321);
  std::vector<Duration> a, b, c;
  for (int i = 0; i < 20; ++i) {
    a.push_back(policy.backoff(i % 5, first));
    b.push_back(policy.backoff(i % 5, second));
    c.push_back(policy.backoff(i % 5, other));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(RetryBackoffTest, HugeAttemptNumbersDoNotOverflow) {
  const RetryPolicy policy;
  RetryRng rng(3);
  for (int retries_done : {62, 63, 64, 1000, 1 << 30}) {
    const Duration delay = policy.backoff(retries_done, rng);
    EXPECT_GE(delay, Duration::zero());
    EXPECT_LE(delay, seconds(2));
  }
  EXPECT_LE(policy.backoff(-5, rng), milliseconds(100));  // treated as the first retry
}

TEST(RetryDecisionTest, RetriesUntilMaxRetries) {
  const RetryPolicy policy;
  RetryRng rng(9);
  const TimePoint now = FakeClock().now();
  const TimePoint far_deadline = now + seconds(60);
  for (int retries_done = 0; retries_done < 3; ++retries_done) {
    const RetryDecision decision = policy.next_attempt(retries_done, now, far_deadline, rng);
    EXPECT_TRUE(decision) << retries_done;
    EXPECT_LE(decision.delay, seconds(2));
  }
  const RetryDecision exhausted = policy.next_attempt(3, now, far_deadline, rng);
  EXPECT_FALSE(exhausted);
  EXPECT_EQ(exhausted.verdict, RetryVerdict::RetriesExhausted);
}

TEST(RetryDecisionTest, NeverSchedulesPastTheDeadline) {
  const RetryPolicy policy;
  const TimePoint now = FakeClock().now();
  RetryRng rng(11);
  int refused = 0;
  for (int i = 0; i < 1000; ++i) {
    // Backoff is uniform in [0, 400 ms]; the deadline is 200 ms away, 50 ms needed to run.
    const TimePoint deadline = now + milliseconds(200);
    const RetryDecision decision = policy.next_attempt(2, now, deadline, rng, milliseconds(50));
    if (decision) {
      EXPECT_LE(now + decision.delay + milliseconds(50), deadline);
    } else {
      EXPECT_EQ(decision.verdict, RetryVerdict::PastDeadline);
      ++refused;
    }
  }
  EXPECT_GT(refused, 400);  // about 62 % of draws land beyond 150 ms
  EXPECT_LT(refused, 800);

  const RetryDecision at_deadline = policy.next_attempt(0, now, now, rng);
  EXPECT_EQ(at_deadline.verdict, RetryVerdict::PastDeadline);
}

TEST(RetryDecisionTest, FitsBeforeDeadline) {
  const TimePoint start = FakeClock().now();
  EXPECT_TRUE(fits_before_deadline(start, start + milliseconds(1)));
  EXPECT_FALSE(fits_before_deadline(start, start));
  EXPECT_FALSE(fits_before_deadline(start + milliseconds(1), start));
  EXPECT_TRUE(fits_before_deadline(start, start + milliseconds(50), milliseconds(50)));
  EXPECT_FALSE(fits_before_deadline(start, start + milliseconds(49), milliseconds(50)));
}

TEST(RetryableTest, IdempotentMethodsAlways) {
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}) {
    EXPECT_TRUE(retryable_method(method, false)) << method;
    EXPECT_TRUE(retryable_method(method, true)) << method;
  }
}

TEST(RetryableTest, PostAndPatchOnlyWithIdempotencyKey) {
  for (const char* method : {"POST", "PATCH"}) {
    EXPECT_FALSE(retryable_method(method, false)) << method;
    EXPECT_TRUE(retryable_method(method, true)) << method;
  }
  for (const char* method : {"CONNECT", "TRACE", "get", "", "BREW"}) {
    EXPECT_FALSE(retryable_method(method, true)) << method;
  }
}

TEST(RetryableTest, OnlyGatewayErrorStatuses) {
  EXPECT_TRUE(retryable_status(502));
  EXPECT_TRUE(retryable_status(503));
  EXPECT_TRUE(retryable_status(504));
  for (int status : {200, 201, 400, 404, 409, 429, 500, 501, 505}) {
    EXPECT_FALSE(retryable_status(status)) << status;
  }
}

}  // namespace
}  // namespace sales::resilience

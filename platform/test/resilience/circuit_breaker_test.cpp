#include "sales/resilience/circuit_breaker.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace sales::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::Pair;

void succeed(CircuitBreaker& breaker, int times, Duration latency = milliseconds(1)) {
  for (int i = 0; i < times; ++i) {
    auto permit = breaker.try_acquire();
    ASSERT_TRUE(permit.admitted());
    permit.on_success(latency);
  }
}

void fail(CircuitBreaker& breaker, int times) {
  for (int i = 0; i < times; ++i) {
    auto permit = breaker.try_acquire();
    ASSERT_TRUE(permit.admitted());
    permit.on_failure();
  }
}

class CircuitBreakerTest : public ::testing::Test {
 protected:
  FakeClock clock;
  CircuitBreakerConfig config;  // the defaults: window 20, minimum 10, 50 %, 10 s, 3 trials

  // Opens the breaker with the defaults: ten failures, nothing else in the window.
  void open(CircuitBreaker& breaker) {
    fail(breaker, 10);
    ASSERT_EQ(breaker.state(), CircuitState::Open);
  }

  void racing_failures_open_once();
};

TEST_F(CircuitBreakerTest, StartsClosedAndAdmits) {
  CircuitBreaker breaker(config, clock);
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  auto permit = breaker.try_acquire();
  EXPECT_TRUE(permit);
  EXPECT_EQ(permit.retry_after(), Duration::zero());
  EXPECT_EQ(breaker.retry_after(), Duration::zero());
  EXPECT_EQ(breaker.snapshot().retry_after, Duration::zero());
}

TEST_F(CircuitBreakerTest, NoVerdictBeforeMinimumCalls) {
  CircuitBreaker breaker(config, clock);
  fail(breaker, 9);
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  fail(breaker, 1);
  EXPECT_EQ(breaker.state(), CircuitState::Open);
}

TEST_F(CircuitBreakerTest, OpensAtThresholdNotBelow) {
  CircuitBreaker below(config, clock);
  succeed(below, 6);
  fail(below, 4);  // 40 %
  EXPECT_EQ(below.state(), CircuitState::Closed);

  CircuitBreaker at(config, clock);
  succeed(at, 5);
  fail(at, 5);  // 50 %
  EXPECT_EQ(at.state(), CircuitState::Open);
}

TEST_F(CircuitBreakerTest, OldResultsSlideOutOfTheWindow) {
  config.window_size = 4;
  config.minimum_calls = 4;
  CircuitBreaker breaker(config, clock);
  fail(breaker, 1);
  succeed(breaker, 3);  // F S S S: 25 %
  EXPECT_EQ(breaker.snapshot().window_failures, 1U);
  succeed(breaker, 1);  // the failure slides out: S S S S
  EXPECT_EQ(breaker.snapshot().window_failures, 0U);
  EXPECT_EQ(breaker.snapshot().window_calls, 4U);
  fail(breaker, 1);  // S S S F: 25 %
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  fail(breaker, 1);  // S S F F: 50 %
  EXPECT_EQ(breaker.state(), CircuitState::Open);
}

TEST_F(CircuitBreakerTest, MinimumCallsLargerThanWindowMeansFullWindow) {
  config.window_size = 5;
  config.minimum_calls = 50;
  CircuitBreaker breaker(config, clock);
  fail(breaker, 5);
  EXPECT_EQ(breaker.state(), CircuitState::Open);
}

TEST_F(CircuitBreakerTest, OpenRefusesWithRemainingTime) {
  CircuitBreaker breaker(config, clock);
  open(breaker);
  clock.advance(seconds(4));
  auto refused = breaker.try_acquire();
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused.retry_after(), seconds(6));
  EXPECT_EQ(breaker.retry_after(), seconds(6));
  EXPECT_EQ(breaker.snapshot().retry_after, seconds(6)) << "the snapshot's, read under the same lock";
  EXPECT_EQ(whole_seconds_at_least_one(refused.retry_after()), 6);
  clock.advance(seconds(6) - milliseconds(1));
  EXPECT_FALSE(breaker.try_acquire());
  EXPECT_EQ(breaker.snapshot().rejected_calls, 2U);
  EXPECT_THROW(refused.on_failure(), std::logic_error);
}

TEST_F(CircuitBreakerTest, HalfOpenAfterOpenDurationAdmitsOnlyTrialCalls) {
  CircuitBreaker breaker(config, clock);
  open(breaker);
  clock.advance(seconds(10));
  std::vector<CircuitBreaker::Permit> trials;
  for (int i = 0; i < 3; ++i) {
    trials.push_back(breaker.try_acquire());
    EXPECT_TRUE(trials.back()) << "trial " << i;
  }
  EXPECT_EQ(breaker.state(), CircuitState::HalfOpen);
  auto fourth = breaker.try_acquire();
  EXPECT_FALSE(fourth);
  EXPECT_EQ(fourth.retry_after(), Duration::zero());  // unknown: depends on the trials
  EXPECT_EQ(breaker.snapshot().half_open_in_flight, 3U);
}

TEST_F(CircuitBreakerTest, HalfOpenClosesWhenTrialsMostlySucceed) {
  CircuitBreaker breaker(config, clock);
  open(breaker);
  clock.advance(seconds(10));
  auto first = breaker.try_acquire();
  auto second = breaker.try_acquire();
  auto third = breaker.try_acquire();
  first.on_failure();
  second.on_success(milliseconds(5));
  EXPECT_EQ(breaker.state(), CircuitState::HalfOpen);  // waits for all three results
  third.on_success(milliseconds(5));                   // 1 of 3 failed: 33 % < 50 %
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.window_calls, 0U);  // a fresh window after closing
  EXPECT_EQ(snapshot.transitions_to_closed, 1U);
}

TEST_F(CircuitBreakerTest, HalfOpenReopensWhenTrialsFail) {
  CircuitBreaker breaker(config, clock);
  open(breaker);
  clock.advance(seconds(10));
  fail(breaker, 2);
  succeed(breaker, 1);  // 2 of 3 failed
  EXPECT_EQ(breaker.state(), CircuitState::Open);
  EXPECT_EQ(breaker.retry_after(), seconds(10));  // a full open_duration from the reopening
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.transitions_to_open, 2U);
  EXPECT_EQ(snapshot.transitions_to_half_open, 1U);
}

TEST_F(CircuitBreakerTest, AbandonedTrialsGiveTheirSlotBack) {
  CircuitBreaker breaker(config, clock);
  open(breaker);
  clock.advance(seconds(10));
  auto kept = breaker.try_acquire();
  auto released = breaker.try_acquire();
  {
    auto dropped = breaker.try_acquire();  // destroyed without a result
    EXPECT_FALSE(breaker.try_acquire());
  }
  released.release_without_result();
  EXPECT_THROW(released.on_success(milliseconds(1)), std::logic_error);
  EXPECT_EQ(breaker.snapshot().half_open_in_flight, 1U);

  auto moved_to = std::move(kept);  // moving hands the slot over, it does not free it
  auto second = breaker.try_acquire();
  auto third = breaker.try_acquire();
  ASSERT_TRUE(second && third);
  EXPECT_FALSE(breaker.try_acquire());
  moved_to.on_success(milliseconds(1));
  second.on_success(milliseconds(1));
  third.on_success(milliseconds(1));
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  EXPECT_EQ(breaker.snapshot().released_calls, 2U);
}

TEST_F(CircuitBreakerTest, LateResultsDoNotDecideTheNewState) {
  CircuitBreaker breaker(config, clock);
  auto slow_call = breaker.try_acquire();  // admitted while CLOSED
  auto abandoned_call = breaker.try_acquire();
  open(breaker);
  clock.advance(seconds(10));
  auto trial = breaker.try_acquire();
  slow_call.on_failure();                   // arrives during HALF_OPEN
  abandoned_call.release_without_result();  // must not free a trial slot it never had
  EXPECT_EQ(breaker.state(), CircuitState::HalfOpen);
  EXPECT_EQ(breaker.snapshot().half_open_in_flight, 1U);
  EXPECT_EQ(breaker.snapshot().window_calls, 0U);
  EXPECT_EQ(breaker.snapshot().late_results, 1U);
  trial.on_success(milliseconds(1));
  succeed(breaker, 2);
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
}

TEST_F(CircuitBreakerTest, SlowSuccessesCountAsFailuresWhenEnabled) {
  config.slow_call_threshold = milliseconds(100);
  CircuitBreaker breaker(config, clock);
  succeed(breaker, 5, milliseconds(100));  // at the threshold is not slower than it
  succeed(breaker, 4, milliseconds(101));
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  succeed(breaker, 1, seconds(3));
  EXPECT_EQ(breaker.state(), CircuitState::Open);
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.slow_calls, 5U);
  EXPECT_EQ(snapshot.successful_calls, 10U);
  EXPECT_EQ(snapshot.failed_calls, 0U);
}

TEST_F(CircuitBreakerTest, SlowCallsIgnoredByDefault) {
  CircuitBreaker breaker(config, clock);
  succeed(breaker, 20, seconds(30));
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  EXPECT_EQ(breaker.snapshot().slow_calls, 0U);
}

TEST_F(CircuitBreakerTest, ListenerSeesEveryTransitionInOrder) {
  std::vector<std::pair<CircuitState, CircuitState>> seen;
  CircuitBreaker breaker(config, clock, [&](CircuitState from, CircuitState to) {
    seen.emplace_back(from, to);
    (void)breaker.snapshot();  // the lock is not held: reading back must not deadlock
  });
  open(breaker);
  clock.advance(seconds(10));
  fail(breaker, 3);
  clock.advance(seconds(10));
  succeed(breaker, 3);
  EXPECT_THAT(seen, ElementsAre(Pair(CircuitState::Closed, CircuitState::Open),
                                Pair(CircuitState::Open, CircuitState::HalfOpen),
                                Pair(CircuitState::HalfOpen, CircuitState::Open),
                                Pair(CircuitState::Open, CircuitState::HalfOpen),
                                Pair(CircuitState::HalfOpen, CircuitState::Closed)));
}

// An upstream that got no traffic while its breaker was open: once the open time is over, a
// look (the gateway's metric, its admin page) sees HALF_OPEN, as a timer would have made it,
// not OPEN with no wait left. Moved once, announced once; the trials are still to come.
TEST_F(CircuitBreakerTest, AnIdleOpenBreakerIsSeenHalfOpenOnceItsOpenTimeIsOver) {
  std::vector<std::pair<CircuitState, CircuitState>> seen;
  CircuitBreaker breaker(config, clock, [&](CircuitState from, CircuitState to) { seen.emplace_back(from, to); });
  open(breaker);
  clock.advance(seconds(10) - milliseconds(1));
  EXPECT_EQ(breaker.state(), CircuitState::Open);
  EXPECT_EQ(breaker.retry_after(), milliseconds(1));
  clock.advance(milliseconds(1));
  EXPECT_EQ(breaker.retry_after(), Duration::zero());
  EXPECT_EQ(breaker.state(), CircuitState::HalfOpen);
  auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.state, CircuitState::HalfOpen);
  EXPECT_EQ(snapshot.transitions_to_half_open, 1U);
  EXPECT_EQ(snapshot.half_open_in_flight, 0U);
  EXPECT_THAT(seen, ElementsAre(Pair(CircuitState::Closed, CircuitState::Open),
                                Pair(CircuitState::Open, CircuitState::HalfOpen)));
  std::vector<CircuitBreaker::Permit> trials;
  for (int i = 0; i < 3; ++i) trials.push_back(breaker.try_acquire());
  for (auto& trial : trials) EXPECT_TRUE(trial);
  EXPECT_FALSE(breaker.try_acquire()) << "three trials, as when a call moved it";
}

TEST_F(CircuitBreakerTest, CountsEveryOutcome) {
  CircuitBreaker breaker(config, clock);
  succeed(breaker, 3);
  fail(breaker, 2);
  breaker.try_acquire().release_without_result();
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.successful_calls, 3U);
  EXPECT_EQ(snapshot.failed_calls, 2U);
  EXPECT_EQ(snapshot.released_calls, 1U);
  EXPECT_EQ(snapshot.window_calls, 5U);
  EXPECT_EQ(snapshot.window_failures, 2U);
  EXPECT_EQ(snapshot.rejected_calls, 0U);
  EXPECT_EQ(to_string(snapshot.state), "closed");
}

TEST_F(CircuitBreakerTest, RejectsNonsenseConfig) {
  auto with = [this](auto change) {
    CircuitBreakerConfig changed = config;
    change(changed);
    return changed;
  };
  EXPECT_THROW(CircuitBreaker(with([](auto& c) { c.window_size = 0; }), clock), std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(with([](auto& c) { c.half_open_calls = 0; }), clock), std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(with([](auto& c) { c.failure_rate_percent = 0; }), clock),
               std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(with([](auto& c) { c.failure_rate_percent = 101; }), clock),
               std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(with([](auto& c) { c.open_duration = Duration::zero(); }), clock),
               std::invalid_argument);
}

TEST_F(CircuitBreakerTest, ConcurrentCallersKeepCountsConsistent) {
  CircuitBreaker breaker(config, clock);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto permit = breaker.try_acquire();
        if (!permit) continue;
        ++admitted;
        if ((i + t) % 3 == 0)
          permit.on_failure();
        else if ((i + t) % 3 == 1)
          permit.on_success(milliseconds(1));
        // otherwise abandoned: released by the destructor
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.successful_calls + snapshot.failed_calls + snapshot.released_calls,
            static_cast<std::uint64_t>(admitted.load()));
  EXPECT_EQ(snapshot.rejected_calls + static_cast<std::uint64_t>(admitted.load()), 8000U);
}

// Closed admits and records without the lock (a window of up to 32 calls; a larger one under
// it); racing failures must still open it exactly once, and once open no caller may be
// admitted through the lock-free path.
TEST_F(CircuitBreakerTest, RacingFailuresOpenOnceAndThenAdmitNobody) {
  for (std::size_t window : {20, 32, 100}) {
    config.window_size = window;
    SCOPED_TRACE(window);
    racing_failures_open_once();
  }
}

// Results recorded concurrently land in the window exactly: after 20,000 successes from four
// threads the window holds 20 successes, so the 10th failure after them opens, not the 9th.
TEST_F(CircuitBreakerTest, ConcurrentResultsKeepTheWindowExact) {
  for (std::size_t window : {20, 100}) {
    config.window_size = window;
    config.minimum_calls = 10;
    SCOPED_TRACE(window);
    CircuitBreaker breaker(config, clock);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&] { succeed(breaker, 5000); });
    for (auto& thread : threads) thread.join();
    auto snapshot = breaker.snapshot();
    EXPECT_EQ(snapshot.window_calls, window);
    EXPECT_EQ(snapshot.window_failures, 0U);
    EXPECT_EQ(snapshot.successful_calls, 20000U);
    const int to_open = static_cast<int>(window / 2);  // 50 % of a full window
    fail(breaker, to_open - 1);
    EXPECT_EQ(breaker.state(), CircuitState::Closed);
    EXPECT_EQ(breaker.snapshot().window_failures, static_cast<std::size_t>(to_open - 1));
    fail(breaker, 1);
    EXPECT_EQ(breaker.state(), CircuitState::Open);
  }
}

void CircuitBreakerTest::racing_failures_open_once() {
  config.open_duration = std::chrono::hours(1);
  std::atomic<int> opened{0};
  CircuitBreaker breaker(config, clock, [&](CircuitState, CircuitState to) {
    if (to == CircuitState::Open) ++opened;
  });
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < 5000; ++i) {
        if (auto permit = breaker.try_acquire()) permit.on_failure();
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 1);
  EXPECT_EQ(breaker.state(), CircuitState::Open);
  EXPECT_FALSE(breaker.try_acquire().admitted());
  const auto snapshot = breaker.snapshot();
  EXPECT_EQ(snapshot.transitions_to_open, 1U);
  EXPECT_EQ(snapshot.failed_calls + snapshot.rejected_calls, 20001U);
}

TEST_F(CircuitBreakerTest, HalfOpenAdmitsExactlyItsTrialsUnderContention) {
  CircuitBreaker breaker(config, clock);
  open(breaker);
  clock.advance(config.open_duration);
  std::atomic<bool> go{false};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<CircuitBreaker::Permit>> held(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < 1000; ++i) {
        auto permit = breaker.try_acquire();
        if (!permit) continue;
        ++admitted;
        held[static_cast<std::size_t>(t)].push_back(std::move(permit));  // keep the trial slot
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), static_cast<int>(config.half_open_calls));
  EXPECT_EQ(breaker.state(), CircuitState::HalfOpen);
  EXPECT_EQ(breaker.snapshot().half_open_in_flight, config.half_open_calls);
  for (auto& permits : held) {
    for (auto& permit : permits) permit.on_success(milliseconds(1));
  }
  EXPECT_EQ(breaker.state(), CircuitState::Closed);
  EXPECT_TRUE(breaker.try_acquire().admitted());
}

}  // namespace
}  // namespace sales::resilience

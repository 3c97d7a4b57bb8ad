#include "sales/service/periodic.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace sales::service {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Waits up to `limit` for `n` steps.
bool reaches(const std::atomic<int>& steps, int n, std::chrono::milliseconds limit = 5s) {
  auto deadline = Clock::now() + limit;
  while (steps.load() < n && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return steps.load() >= n;
}

TEST(PeriodicTest, NothingRunsBeforeStart) {
  std::atomic<int> steps{0};
  {
    Periodic p(1ms, [&] { ++steps; });
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(steps.load(), 0);
}

TEST(PeriodicTest, StepsAtStartAndThenEveryInterval) {
  std::atomic<int> steps{0};
  Periodic p(10ms, [&] { ++steps; });
  p.start();
  EXPECT_TRUE(reaches(steps, 1, 1s)) << "the first step comes at start";
  EXPECT_TRUE(reaches(steps, 3));
}

TEST(PeriodicTest, AfterIntervalWaitsBeforeTheFirstStep) {
  std::atomic<int> steps{0};
  Periodic p(300ms, [&] { ++steps; }, Periodic::First::AfterInterval);
  auto started = Clock::now();
  p.start();
  ASSERT_TRUE(reaches(steps, 1));
  EXPECT_GE(Clock::now() - started, 250ms);
}

TEST(PeriodicTest, StopCutsTheWaitShortAndNoStepFollows) {
  std::atomic<int> steps{0};
  Periodic p(1h, [&] { ++steps; });
  p.start();
  ASSERT_TRUE(reaches(steps, 1));
  auto stopping = Clock::now();
  p.stop();
  EXPECT_LT(Clock::now() - stopping, 1s);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(steps.load(), 1);
  p.stop();  // a second stop is harmless
}

TEST(PeriodicTest, AStopDuringTheFirstWaitRunsNoStep) {
  std::atomic<int> steps{0};
  Periodic p(1h, [&] { ++steps; }, Periodic::First::AfterInterval);
  p.start();
  std::this_thread::sleep_for(20ms);
  p.stop();
  EXPECT_EQ(steps.load(), 0);
}

TEST(PeriodicTest, ASecondStartKeepsTheOneThread) {
  std::atomic<int> running{0};
  std::atomic<int> overlap{0};
  std::atomic<int> steps{0};
  Periodic p(1ms, [&] {
    if (++running > 1) ++overlap;
    std::this_thread::sleep_for(2ms);
    --running;
    ++steps;
  });
  p.start();
  p.start();
  ASSERT_TRUE(reaches(steps, 5));
  EXPECT_EQ(overlap.load(), 0);
}

TEST(PeriodicTest, TheDestructorWaitsForARunningStep) {
  std::atomic<bool> in_step{false};
  std::atomic<bool> finished{false};
  {
    Periodic p(1h, [&] {
      in_step = true;
      std::this_thread::sleep_for(50ms);
      finished = true;
    });
    p.start();
    while (!in_step) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(finished.load());
}


// The causes of the steps so far, for the tests of wake(). Their intervals are an hour, so
// the clock never moves a step: only wake() and stop() do.
class Causes {
 public:
  std::function<void(Periodic::Cause)> recorder() {
    return [this](Periodic::Cause cause) {
      std::lock_guard lock(mu_);
      seen_.push_back(cause);
      ++count_;
    };
  }
  std::vector<Periodic::Cause> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  const std::atomic<int>& count() const { return count_; }

 private:
  std::mutex mu_;
  std::vector<Periodic::Cause> seen_;
  std::atomic<int> count_{0};
};

using Cause = Periodic::Cause;
constexpr Periodic::Options kWakeOnly{.first = Periodic::First::AfterInterval};

TEST(PeriodicTest, IntervalStepsSayInterval) {
  Causes causes;
  Periodic p(5ms, causes.recorder(), Periodic::Options{});
  p.start();
  ASSERT_TRUE(reaches(causes.count(), 3));
  p.stop();
  for (auto cause : causes.seen()) EXPECT_EQ(cause, Cause::Interval);
}

TEST(PeriodicTest, AWakeCutsTheIntervalShort) {
  Causes causes;
  Periodic p(1h, causes.recorder(), kWakeOnly);
  p.start();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(causes.count().load(), 0);
  p.wake();
  ASSERT_TRUE(reaches(causes.count(), 1, 1s));
  EXPECT_EQ(causes.seen(), std::vector<Cause>{Cause::Woken});
}

TEST(PeriodicTest, AWakeBeforeStartIsKeptForTheFirstWait) {
  Causes causes;
  Periodic p(1h, causes.recorder(), kWakeOnly);
  p.wake();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(causes.count().load(), 0) << "nothing runs before start";
  p.start();
  ASSERT_TRUE(reaches(causes.count(), 1, 1s));
  EXPECT_EQ(causes.seen(), std::vector<Cause>{Cause::Woken});
}

TEST(PeriodicTest, WakesWithinTheGatherMakeOneStepAfterIt) {
  Causes causes;
  // A gather far longer than the 50 ms of wakes, so that a loaded machine cannot split them.
  Periodic p(1h, causes.recorder(), {.first = Periodic::First::AfterInterval, .gather = 1000ms});
  p.start();
  auto woken = Clock::now();
  p.wake();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(10ms);
    p.wake();
  }
  ASSERT_TRUE(reaches(causes.count(), 1));
  EXPECT_GE(Clock::now() - woken, 950ms) << "the step came before the gather was out";
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(causes.seen(), std::vector<Cause>{Cause::Woken});
}

TEST(PeriodicTest, AWakeDuringAStepRunsOneMoreStep) {
  std::atomic<int> steps{0};
  std::atomic<bool> release{false};
  std::vector<Cause> causes;  // written by the thread, read after stop()
  Periodic p(
      1h,
      [&](Cause cause) {
        causes.push_back(cause);
        ++steps;
        while (steps.load() == 1 && !release) std::this_thread::sleep_for(1ms);
      },
      Periodic::Options{});
  p.start();
  ASSERT_TRUE(reaches(steps, 1));
  p.wake();
  p.wake();  // still one more step, not two
  release = true;
  ASSERT_TRUE(reaches(steps, 2));
  std::this_thread::sleep_for(50ms);
  p.stop();
  EXPECT_EQ(causes, (std::vector<Cause>{Cause::Interval, Cause::Woken}));
}

TEST(PeriodicTest, AStopDuringTheGatherRunsTheLastStepOnlyWhenAsked) {
  for (bool last_step : {false, true}) {
    Causes causes;
    Periodic p(1h, causes.recorder(),
               {.first = Periodic::First::AfterInterval, .gather = 1h, .last_step_if_woken = last_step});
    p.start();
    p.wake();
    std::this_thread::sleep_for(20ms);
    auto stopping = Clock::now();
    p.stop();
    EXPECT_LT(Clock::now() - stopping, 1s) << "the gather must not hold a stop";
    EXPECT_EQ(causes.seen(), last_step ? std::vector<Cause>{Cause::Stopping} : std::vector<Cause>{}) << last_step;
  }
}

TEST(PeriodicTest, WithoutAPendingWakeStopRunsNoLastStep) {
  Causes causes;
  Periodic p(1h, causes.recorder(), {.last_step_if_woken = true});
  p.start();
  ASSERT_TRUE(reaches(causes.count(), 1));
  p.stop();
  EXPECT_EQ(causes.seen(), std::vector<Cause>{Cause::Interval});
}

}  // namespace
}  // namespace sales::service

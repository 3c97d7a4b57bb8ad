#include "sales/service/periodic.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

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

}  // namespace
}  // namespace sales::service

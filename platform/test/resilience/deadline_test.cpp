// The request deadline as plain time arithmetic and a thread-local scope.
#include "sales/resilience/deadline.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace sales::resilience {
namespace {

using namespace std::chrono_literals;

TEST(Deadline, IsArrivalPlusBudgetAndNoneWithoutOne) {
  FakeClock clock;
  EXPECT_EQ(deadline_after(clock.now(), 250ms), clock.now() + 250ms);
  EXPECT_EQ(deadline_after(clock.now(), 0ms), clock.now());
  EXPECT_EQ(deadline_after(clock.now(), std::nullopt), kNoDeadline);
}

TEST(Deadline, AnAbsurdBudgetMeansNoDeadlineRatherThanOneInThePast) {
  FakeClock clock;
  EXPECT_EQ(deadline_after(clock.now(), std::chrono::milliseconds(std::chrono::milliseconds::max())), kNoDeadline);
  EXPECT_EQ(deadline_after(clock.now(), std::chrono::milliseconds(9'000'000'000'000'000'000)), kNoDeadline);
}

TEST(Deadline, AServiceKeepsATenthOfTheBudgetToAnswerInAtMost100Ms) {
  EXPECT_EQ(answer_reserve(0ms), 0ms);
  EXPECT_EQ(answer_reserve(9ms), 0ms);
  EXPECT_EQ(answer_reserve(50ms), 5ms);
  EXPECT_EQ(answer_reserve(800ms), 80ms);
  EXPECT_EQ(answer_reserve(2500ms), 100ms);
  EXPECT_EQ(answer_reserve(std::chrono::milliseconds::max()), 100ms);
}

TEST(Deadline, OutsideARequestAnOperationKeepsItsOwnTimeout) {
  FakeClock clock;
  bool cut = true;
  EXPECT_EQ(current_deadline(), kNoDeadline);
  EXPECT_EQ(give_up_at(clock.now(), 2s, &cut), clock.now() + 2s);
  EXPECT_FALSE(cut);
}

TEST(Deadline, InsideAScopeTheSoonerOfTimeoutAndDeadlineWins) {
  FakeClock clock;
  bool cut = false;
  {
    DeadlineScope scope(clock.now() + 100ms);
    EXPECT_EQ(current_deadline(), clock.now() + 100ms);
    EXPECT_EQ(give_up_at(clock.now(), 2s, &cut), clock.now() + 100ms);
    EXPECT_TRUE(cut);
    EXPECT_EQ(give_up_at(clock.now(), 50ms, &cut), clock.now() + 50ms);
    EXPECT_FALSE(cut);
  }
  EXPECT_EQ(current_deadline(), kNoDeadline);
}

TEST(Deadline, ANestedScopeCanOnlyBringTheDeadlineCloser) {
  FakeClock clock;
  DeadlineScope outer(clock.now() + 100ms);
  {
    DeadlineScope later(clock.now() + 1s);
    EXPECT_EQ(current_deadline(), clock.now() + 100ms);
    {
      DeadlineScope sooner(clock.now() + 10ms);
      EXPECT_EQ(current_deadline(), clock.now() + 10ms);
    }
    EXPECT_EQ(current_deadline(), clock.now() + 100ms);
  }
  EXPECT_EQ(current_deadline(), clock.now() + 100ms);
}

TEST(Deadline, BelongsToTheThreadThatSetIt) {
  FakeClock clock;
  DeadlineScope scope(clock.now() + 100ms);
  TimePoint seen{};
  std::thread([&] { seen = current_deadline(); }).join();
  EXPECT_EQ(seen, kNoDeadline);
}

TEST(Deadline, BudgetLeftIsWholeMillisecondsRoundedDownAndNeverNegative) {
  FakeClock clock;
  auto deadline = clock.now() + 250ms;
  EXPECT_EQ(budget_left(clock.now(), deadline), 250ms);
  clock.advance(100ms + 999us);
  EXPECT_EQ(budget_left(clock.now(), deadline), 149ms);
  clock.advance(1s);
  EXPECT_EQ(budget_left(clock.now(), deadline), 0ms);
}

}  // namespace
}  // namespace sales::resilience

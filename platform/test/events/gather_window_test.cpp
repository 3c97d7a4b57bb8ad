#include "sales/events/gather_window.hpp"

#include <gtest/gtest.h>

namespace sales::events {
namespace {

using namespace std::chrono_literals;
using Clock = GatherWindow::Clock;

const Clock::time_point t0 = Clock::time_point{} + 1h;

TEST(GatherWindowTest, TheFirstArrivalIsHandledAtOnce) {
  GatherWindow w(2ms);
  EXPECT_EQ(w.arrived(t0), Clock::duration::zero());
}

TEST(GatherWindowTest, AnArrivalWithinAWindowOfThePreviousGathersForTheWindow) {
  GatherWindow w(2ms);
  (void)w.arrived(t0);
  EXPECT_EQ(w.arrived(t0 + 1500us), Clock::duration(2ms));
  EXPECT_EQ(w.arrived(t0 + 3000us), Clock::duration(2ms));
}

TEST(GatherWindowTest, AfterAQuietSpellOfAWindowOrMoreTheRoundStartsAtOnce) {
  GatherWindow w(2ms);
  (void)w.arrived(t0);
  EXPECT_EQ(w.arrived(t0 + 2ms), Clock::duration::zero());
  EXPECT_EQ(w.arrived(t0 + 1s), Clock::duration::zero());
}

TEST(GatherWindowTest, WorkGatheredIntoARoundCountsAsThePreviousArrival) {
  GatherWindow w(2ms);
  (void)w.arrived(t0);
  w.also_arrived(t0 + 5ms);  // joined a round late
  EXPECT_EQ(w.arrived(t0 + 6ms), Clock::duration(2ms));
}

TEST(GatherWindowTest, AZeroWindowNeverGathers) {
  GatherWindow w(Clock::duration::zero());
  (void)w.arrived(t0);
  EXPECT_EQ(w.arrived(t0), Clock::duration::zero());
}

}  // namespace
}  // namespace sales::events

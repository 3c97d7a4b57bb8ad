#include "sales/service/wake_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sales::service {
namespace {

using namespace std::chrono_literals;

TEST(WakeRegistryTest, WakesEveryRegisteredWakerOncePerCall) {
  WakeRegistry registry;
  int a = 0;
  int b = 0;
  auto ra = registry.add([&] { ++a; });
  auto rb = registry.add([&] { ++b; });
  registry.wake_all();
  registry.wake_all();
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 2);
}

TEST(WakeRegistryTest, AResetOrDestroyedRegistrationIsNeverWokenAgain) {
  WakeRegistry registry;
  int kept = 0;
  int reset = 0;
  int destroyed = 0;
  auto keep = registry.add([&] { ++kept; });
  auto gone = registry.add([&] { ++reset; });
  { auto scoped = registry.add([&] { ++destroyed; }); }
  gone.reset();
  EXPECT_FALSE(gone.active());
  gone.reset();  // a second reset is harmless
  registry.wake_all();
  EXPECT_EQ(kept, 1);
  EXPECT_EQ(reset, 0);
  EXPECT_EQ(destroyed, 0);
}

TEST(WakeRegistryTest, AMovedRegistrationStaysRegisteredUntilItsNewOwnerGoes) {
  WakeRegistry registry;
  int woken = 0;
  WakeRegistry::Registration owner;
  EXPECT_FALSE(owner.active());
  {
    auto first = registry.add([&] { ++woken; });
    owner = std::move(first);
  }  // the moved-from registration must not unregister
  ASSERT_TRUE(owner.active());
  registry.wake_all();
  EXPECT_EQ(woken, 1);
  owner = WakeRegistry::Registration{};  // assigning over it unregisters
  registry.wake_all();
  EXPECT_EQ(woken, 1);
}

TEST(WakeRegistryTest, RegistriesAreIndependent) {
  WakeRegistry relays;
  WakeRegistry feeds;
  int relay = 0;
  int feed = 0;
  auto r = relays.add([&] { ++relay; });
  auto f = feeds.add([&] { ++feed; });
  relays.wake_all();
  EXPECT_EQ(relay, 1);
  EXPECT_EQ(feed, 0);
}

TEST(WakeRegistryTest, ResetWaitsForAWakerThatIsRunning) {
  WakeRegistry registry;
  std::atomic<bool> in_waker{false};
  std::atomic<bool> finished{false};
  auto registration = registry.add([&] {
    in_waker = true;
    std::this_thread::sleep_for(50ms);
    finished = true;
  });
  std::jthread committer([&] { registry.wake_all(); });
  while (!in_waker) std::this_thread::sleep_for(1ms);
  registration.reset();  // its owner may go now: the waker must have finished
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace sales::service

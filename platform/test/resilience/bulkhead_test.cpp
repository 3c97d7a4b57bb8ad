#include "sales/resilience/bulkhead.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace sales::resilience {
namespace {

TEST(BulkheadTest, AdmitsUpToMaxThenRejects) {
  Bulkhead bulkhead(2);
  auto first = bulkhead.try_enter();
  auto second = bulkhead.try_enter();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->holds_slot());
  EXPECT_FALSE(bulkhead.try_enter());
  EXPECT_FALSE(bulkhead.try_enter());
  EXPECT_EQ(bulkhead.in_flight(), 2U);
  EXPECT_EQ(bulkhead.rejected(), 2U);
  EXPECT_EQ(bulkhead.max_concurrent(), 2U);
}

TEST(BulkheadTest, DestroyingAPermitFreesItsSlot) {
  Bulkhead bulkhead(1);
  {
    auto permit = bulkhead.try_enter();
    ASSERT_TRUE(permit);
    EXPECT_FALSE(bulkhead.try_enter());
  }
  EXPECT_EQ(bulkhead.in_flight(), 0U);
  EXPECT_TRUE(bulkhead.try_enter());  // the temporary is destroyed at once, freeing it again
  EXPECT_EQ(bulkhead.in_flight(), 0U);
}

TEST(BulkheadTest, ReleaseIsEarlyAndIdempotent) {
  Bulkhead bulkhead(1);
  auto permit = bulkhead.try_enter();
  ASSERT_TRUE(permit);
  permit->release();
  EXPECT_FALSE(permit->holds_slot());
  EXPECT_EQ(bulkhead.in_flight(), 0U);
  auto next = bulkhead.try_enter();
  ASSERT_TRUE(next);
  permit->release();  // must not free the slot `next` now holds
  permit.reset();
  EXPECT_EQ(bulkhead.in_flight(), 1U);
}

TEST(BulkheadTest, MovingAPermitMovesTheSlot) {
  Bulkhead bulkhead(1);
  auto original = bulkhead.try_enter();
  ASSERT_TRUE(original);
  Bulkhead::Permit moved = std::move(*original);
  EXPECT_FALSE(original->holds_slot());
  original.reset();  // the moved-from permit holds nothing
  EXPECT_EQ(bulkhead.in_flight(), 1U);

  std::vector<Bulkhead::Permit> carried;
  carried.push_back(std::move(moved));  // e.g. into an async completion handler
  EXPECT_EQ(bulkhead.in_flight(), 1U);
  carried.clear();
  EXPECT_EQ(bulkhead.in_flight(), 0U);
}

TEST(BulkheadTest, MoveAssignmentReleasesTheOverwrittenSlot) {
  Bulkhead bulkhead(2);
  auto first = bulkhead.try_enter();
  auto second = bulkhead.try_enter();
  ASSERT_TRUE(first && second);
  *first = std::move(*second);
  EXPECT_EQ(bulkhead.in_flight(), 1U);
  *first = std::move(*first);  // self-move keeps the slot
  EXPECT_EQ(bulkhead.in_flight(), 1U);
  first.reset();
  second.reset();
  EXPECT_EQ(bulkhead.in_flight(), 0U);
}

TEST(BulkheadTest, SnapshotCountsEverything) {
  Bulkhead bulkhead(3);
  {
    auto a = bulkhead.try_enter();
    auto b = bulkhead.try_enter();
    auto c = bulkhead.try_enter();
    EXPECT_FALSE(bulkhead.try_enter());
  }
  auto d = bulkhead.try_enter();
  const auto snapshot = bulkhead.snapshot();
  EXPECT_EQ(snapshot.max_concurrent, 3U);
  EXPECT_EQ(snapshot.in_flight, 1U);
  EXPECT_EQ(snapshot.peak_in_flight, 3U);
  EXPECT_EQ(snapshot.admitted, 4U);
  EXPECT_EQ(snapshot.rejected, 1U);
}

TEST(BulkheadTest, RejectsZeroCapacity) { EXPECT_THROW(Bulkhead(0), std::invalid_argument); }

TEST(BulkheadTest, ThreadsHammeringNeverExceedMax) {
  constexpr std::size_t kMax = 3;
  constexpr int kThreads = 8;
  constexpr int kTriesPerThread = 20000;
  Bulkhead bulkhead(kMax);
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<std::uint64_t> admitted{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kTriesPerThread; ++i) {
        auto permit = bulkhead.try_enter();
        if (!permit) continue;
        ++admitted;
        const int now_inside = ++inside;
        int seen = most_inside.load();
        while (now_inside > seen && !most_inside.compare_exchange_weak(seen, now_inside)) {
        }
        if (i % 64 == 0) std::this_thread::yield();  // hold the slot a little, invite contention
        --inside;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_LE(most_inside.load(), static_cast<int>(kMax));
  const auto snapshot = bulkhead.snapshot();
  EXPECT_EQ(snapshot.in_flight, 0U);
  EXPECT_LE(snapshot.peak_in_flight, kMax);
  EXPECT_EQ(snapshot.admitted, admitted.load());
  EXPECT_EQ(snapshot.admitted + snapshot.rejected, static_cast<std::uint64_t>(kThreads) * kTriesPerThread);
}

}  // namespace
}  // namespace sales::resilience

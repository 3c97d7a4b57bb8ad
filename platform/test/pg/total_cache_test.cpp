// TotalCache: a last page needs no count, fresh totals are reused, stale ones are not.
#include "sales/pg/total_cache.hpp"

#include "sales/pg/pool.hpp"
#include "sales/resilience/deadline.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace sales::pg {
namespace {

using namespace std::chrono_literals;

class TotalCacheTest : public ::testing::Test {
 protected:
  resilience::FakeClock clock;
  int counts = 0;
  std::int64_t table_rows = 100;

  std::function<std::int64_t()> counter() {
    return [this] {
      ++counts;
      return table_rows;
    };
  }
  // A count whose scan takes `scan` on the fake clock.
  std::function<std::int64_t()> counter_taking(resilience::Duration scan) {
    return [this, scan] {
      clock.advance(scan);
      ++counts;
      return table_rows;
    };
  }
  static PageShown full_page() { return {.offset = 0, .limit = 20, .items = 20, .fresh = false}; }
};

TEST_F(TotalCacheTest, AShortPageIsTheLastOneAndNeedsNoCount) {
  TotalCache cache({}, clock);
  EXPECT_EQ(cache.total("q=a", {.offset = 40, .limit = 20, .items = 7, .fresh = false}, counter()), 47);
  EXPECT_EQ(cache.total("q=b", {.offset = 0, .limit = 20, .items = 0, .fresh = true}, counter()), 0);
  EXPECT_EQ(counts, 0);
}

TEST_F(TotalCacheTest, AnEmptyPagePastTheEndIsCounted) {
  TotalCache cache({}, clock);
  table_rows = 5;
  EXPECT_EQ(cache.total("q=", {.offset = 50, .limit = 20, .items = 0, .fresh = false}, counter()), 5);
  EXPECT_EQ(counts, 1);
}

TEST_F(TotalCacheTest, AFullPageReusesATotalCountedWithinTheTtl) {
  TotalCache cache({.ttl = 1000ms}, clock);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 100);
  table_rows = 101;
  clock.advance(999ms);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 100);
  EXPECT_EQ(counts, 1);
}

TEST_F(TotalCacheTest, AFilterNotKeptIsCountedEachTimeAndTakesNoEntry) {
  TotalCache cache({.ttl = 1000ms}, clock);
  const PageShown not_kept{.offset = 0, .limit = 20, .items = 20, .fresh = false, .keep = false};
  EXPECT_EQ(cache.total("q=", not_kept, counter()), 100);
  table_rows = 101;
  EXPECT_EQ(cache.total("q=", not_kept, counter()), 101);
  EXPECT_EQ(counts, 2);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101) << "the filter kept is not mistaken for it";
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(TotalCacheTest, ATotalAsOldAsTheTtlIsCountedAgain) {
  TotalCache cache({.ttl = 1000ms}, clock);
  cache.total("q=", full_page(), counter());
  table_rows = 101;
  clock.advance(1000ms);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, ACountThatTookLongIsKeptTwentyTimesItsDuration) {
  TotalCache cache({.ttl = 1000ms, .count_share_pct = 5}, clock);
  cache.total("q=", full_page(), counter_taking(200ms));
  table_rows = 101;
  clock.advance(3700ms);  // 3.9 s after the count began: within 20 × 200 ms
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 100);
  clock.advance(100ms);  // 4 s
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, AQuickCountIsKeptForTheTtl) {
  TotalCache cache({.ttl = 1000ms, .count_share_pct = 5}, clock);
  cache.total("q=", full_page(), counter_taking(20ms));  // 20 × 20 ms is less than the ttl
  table_rows = 101;
  clock.advance(980ms);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, AFullShareKeepsEvenASlowCountForTheTtlOnly) {
  TotalCache cache({.ttl = 1000ms, .count_share_pct = 100}, clock);
  cache.total("q=", full_page(), counter_taking(200ms));
  clock.advance(800ms);
  cache.total("q=", full_page(), counter());
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, NoCacheCountsASlowFilterNowAllTheSame) {
  TotalCache cache({.ttl = 1000ms}, clock);
  cache.total("q=", full_page(), counter_taking(500ms));
  table_rows = 101;
  auto fresh_page = full_page();
  fresh_page.fresh = true;
  EXPECT_EQ(cache.total("q=", fresh_page, counter()), 101);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, WhileOneRequestRecountsAnExpiredTotalTheOthersGetTheLastCount) {
  TotalCache cache({.ttl = 1000ms}, clock);
  cache.total("q=", full_page(), counter());
  clock.advance(1500ms);
  table_rows = 101;
  std::int64_t seen_meanwhile = -1;
  auto recount = [&] {
    seen_meanwhile = cache.total("q=", full_page(), counter());  // a second request, mid-count
    ++counts;
    return table_rows;
  };
  EXPECT_EQ(cache.total("q=", full_page(), recount), 101);
  EXPECT_EQ(seen_meanwhile, 100);
  EXPECT_EQ(counts, 2) << "the first count and the one recount, not a third beside it";
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101);
}

TEST_F(TotalCacheTest, AnotherRequestsFailedCountLeavesTheRecountInCharge) {
  TotalCache cache({.ttl = 1000ms}, clock);
  cache.total("q=", full_page(), counter());
  clock.advance(1500ms);
  std::int64_t seen_after_failure = -1;
  auto recount = [&] {
    auto fresh = full_page();
    fresh.fresh = true;  // a no-cache request counts beside the recount, and fails
    EXPECT_THROW(cache.total("q=", fresh, []() -> std::int64_t { throw std::runtime_error("db down"); }),
                 std::runtime_error);
    seen_after_failure = cache.total("q=", full_page(), counter());
    return std::int64_t{101};
  };
  EXPECT_EQ(cache.total("q=", full_page(), recount), 101);
  EXPECT_EQ(seen_after_failure, 100) << "the recount still runs: the last count, not a second scan";
  EXPECT_EQ(counts, 1);
}

TEST_F(TotalCacheTest, AContradictedTotalIsCountedOnceWhileOthersUseIt) {
  TotalCache cache({.ttl = 1000ms}, clock);
  table_rows = 30;
  cache.total("q=", full_page(), counter());  // 30 kept
  clock.advance(1500ms);
  table_rows = 60;
  std::int64_t first_page_meanwhile = -1;
  auto recount = [&] {
    first_page_meanwhile = cache.total("q=", full_page(), counter());  // expired, but 30 fits page 1
    ++counts;
    return table_rows;
  };
  EXPECT_EQ(cache.total("q=", {.offset = 40, .limit = 20, .items = 20, .fresh = false}, recount), 60);
  EXPECT_EQ(first_page_meanwhile, 30);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, EvictionKeepsATotalBeingCountedAgain) {
  TotalCache cache({.ttl = 1000ms, .max_entries = 1}, clock);
  cache.total("a", full_page(), counter());
  clock.advance(1500ms);
  std::int64_t a_meanwhile = -1;
  auto recount_a = [&] {
    cache.total("b", full_page(), counter());  // would evict a, which is being counted
    a_meanwhile = cache.total("a", full_page(), counter());
    ++counts;
    return table_rows;
  };
  cache.total("a", full_page(), recount_a);
  EXPECT_EQ(a_meanwhile, 100);
  EXPECT_EQ(counts, 3) << "a, b, and a's recount: no second scan of a";
}

TEST_F(TotalCacheTest, AFailedRecountLetsTheNextRequestCount) {
  TotalCache cache({.ttl = 1000ms}, clock);
  cache.total("q=", full_page(), counter());
  clock.advance(1500ms);
  EXPECT_THROW(cache.total("q=", full_page(), []() -> std::int64_t { throw std::runtime_error("db down"); }),
               std::runtime_error);
  table_rows = 102;
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 102);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, NoCacheAsksForAFreshCountAndKeepsIt) {
  TotalCache cache({.ttl = 1000ms}, clock);
  cache.total("q=", full_page(), counter());
  table_rows = 101;
  auto fresh = full_page();
  fresh.fresh = true;
  EXPECT_EQ(cache.total("q=", fresh, counter()), 101);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, AKeptTotalBelowWhatThePageShowsIsCountedAgain) {
  TotalCache cache({.ttl = 1000ms}, clock);
  table_rows = 20;
  cache.total("q=", full_page(), counter());
  table_rows = 45;
  EXPECT_EQ(cache.total("q=", {.offset = 20, .limit = 20, .items = 20, .fresh = false}, counter()), 45);
  EXPECT_EQ(counts, 2);
}

TEST_F(TotalCacheTest, EachFilterHasItsOwnTotal) {
  TotalCache cache({.ttl = 1000ms}, clock);
  EXPECT_EQ(cache.total("q=a", full_page(), [] { return std::int64_t{21}; }), 21);
  EXPECT_EQ(cache.total("q=b", full_page(), [] { return std::int64_t{22}; }), 22);
  EXPECT_EQ(cache.total("q=a", full_page(), counter()), 21);
  EXPECT_EQ(counts, 0);
}

TEST_F(TotalCacheTest, AZeroTtlCountsEveryTime) {
  TotalCache cache({.ttl = 0ms}, clock);
  cache.total("q=", full_page(), counter());
  cache.total("q=", full_page(), counter());
  EXPECT_EQ(counts, 2);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(TotalCacheTest, ALongFilterIsCountedEveryTime) {
  TotalCache cache({.ttl = 1000ms}, clock);
  std::string long_search(TotalCache::kMaxKeyBytes + 1, 'x');
  cache.total(long_search, full_page(), counter());
  cache.total(long_search, full_page(), counter());
  EXPECT_EQ(counts, 2);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(TotalCacheTest, ItKeepsAtMostMaxEntriesDroppingTheOldest) {
  TotalCache cache({.ttl = 1000ms, .max_entries = 2}, clock);
  cache.total("a", full_page(), counter());
  clock.advance(10ms);
  cache.total("b", full_page(), counter());
  clock.advance(10ms);
  cache.total("c", full_page(), counter());
  EXPECT_EQ(cache.size(), 2u);
  cache.total("b", full_page(), counter());
  cache.total("c", full_page(), counter());
  EXPECT_EQ(counts, 3);  // b and c kept
  cache.total("a", full_page(), counter());
  EXPECT_EQ(counts, 4);  // a was the oldest, dropped
}

// A count that runs until the test lets it finish.
struct HeldCount {
  std::promise<void> started, go;
  std::shared_future<void> go_signal = go.get_future().share();
  std::function<std::int64_t()> returning(std::int64_t rows, bool fail = false) {
    if (fail) return failing([] { throw std::runtime_error("statement timeout"); });
    return [this, rows]() -> std::int64_t {
      started.set_value();
      go_signal.wait();
      return rows;
    };
  }
  std::function<std::int64_t()> failing(std::function<void()> throw_it) {
    return [this, throw_it]() -> std::int64_t {
      started.set_value();
      go_signal.wait();
      throw_it();
      return 0;
    };
  }
};

TEST_F(TotalCacheTest, RequestsArrivingDuringAFiltersFirstCountWaitForItInsteadOfCounting) {
  TotalCache cache({.ttl = 1000ms}, clock);
  HeldCount first;
  auto counting = std::async(std::launch::async, [&] { return cache.total("q=", full_page(), first.returning(70)); });
  first.started.get_future().wait();
  auto waiting = std::async(std::launch::async, [&] { return cache.total("q=", full_page(), counter()); });
  // Not a timing assertion: had it not reached the wait yet, it would find the kept total.
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
  first.go.set_value();
  EXPECT_EQ(counting.get(), 70);
  EXPECT_EQ(waiting.get(), 70);
  EXPECT_EQ(counts, 0);
}

TEST_F(TotalCacheTest, WhenAFirstCountFailsItsWaitersFailAlikeAndTheNextRequestCounts) {
  TotalCache cache({.ttl = 1000ms}, clock);
  HeldCount first;
  auto failing = std::async(std::launch::async, [&] { return cache.total("q=", full_page(), first.returning(70, true)); });
  first.started.get_future().wait();
  auto waiting = std::async(std::launch::async, [&] { return cache.total("q=", full_page(), counter()); });
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
  first.go.set_value();
  EXPECT_THROW(failing.get(), std::runtime_error);
  EXPECT_THROW(waiting.get(), std::runtime_error);
  EXPECT_EQ(counts, 0);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 100);
  EXPECT_EQ(counts, 1);
}

TEST_F(TotalCacheTest, AFirstCountCutByItsOwnDeadlineLetsAWaiterCountInstead) {
  TotalCache cache({.ttl = 1000ms}, clock);
  HeldCount first;
  auto cut = std::async(std::launch::async, [&] {
    return cache.total("q=", full_page(), first.failing([] { throw DeadlineExceeded("deadline", "57014"); }));
  });
  first.started.get_future().wait();
  auto waiting = std::async(std::launch::async, [&] { return cache.total("q=", full_page(), counter()); });
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
  first.go.set_value();
  EXPECT_THROW(cut.get(), DeadlineExceeded);
  EXPECT_EQ(waiting.get(), 100) << "the waiter failed with another request's deadline";
  EXPECT_EQ(counts, 1);
}

TEST_F(TotalCacheTest, AWaiterGivesUpAtItsRequestsDeadline) {
  TotalCache cache({.ttl = 1000ms}, clock);
  HeldCount first;
  auto counting = std::async(std::launch::async, [&] { return cache.total("q=", full_page(), first.returning(70)); });
  first.started.get_future().wait();
  auto waiting = std::async(std::launch::async, [&] {
    resilience::DeadlineScope deadline(std::chrono::steady_clock::now() + 20ms);
    return cache.total("q=", full_page(), counter());
  });
  EXPECT_THROW(waiting.get(), resilience::DeadlineExceeded);  // while the count is still held
  first.go.set_value();
  EXPECT_EQ(counting.get(), 70);
  EXPECT_EQ(counts, 0);
}

TEST_F(TotalCacheTest, ASlowCountIsKeptAMinuteAtMost) {
  TotalCache cache({.ttl = 1000ms, .count_share_pct = 5}, clock);
  cache.total("q=", full_page(), counter_taking(10s));  // 20 × 10 s would be 200 s
  table_rows = 101;
  clock.advance(49s);  // 59 s after it began
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 100);
  clock.advance(1s);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 101);
}

TEST_F(TotalCacheTest, AFailedCountKeepsNothing) {
  TotalCache cache({.ttl = 1000ms}, clock);
  EXPECT_THROW(cache.total("q=", full_page(), []() -> std::int64_t { throw std::runtime_error("db down"); }),
               std::runtime_error);
  EXPECT_EQ(cache.total("q=", full_page(), counter()), 100);
  EXPECT_EQ(counts, 1);
}

TEST(TotalCacheConfigTest, ReadsTheTtlAndRejectsOneOutOfRange) {
  config::Env ok(std::map<std::string, std::string>{{"LIST_TOTAL_CACHE_MS", "250"}});
  EXPECT_EQ(read_total_cache_config(ok).ttl, std::chrono::milliseconds(250));
  config::Env unset(std::map<std::string, std::string>{});
  EXPECT_EQ(read_total_cache_config(unset).ttl, std::chrono::milliseconds(1000));
  EXPECT_EQ(read_total_cache_config(unset).count_share_pct, 5);
  config::Env bad(std::map<std::string, std::string>{{"LIST_TOTAL_CACHE_MS", "-1"}});
  read_total_cache_config(bad);
  EXPECT_THROW(bad.finish(), config::ConfigError);
}

TEST(TotalCacheConfigTest, ReadsTheCountShareAndRejectsZero) {
  config::Env ok(std::map<std::string, std::string>{{"LIST_TOTAL_COUNT_SHARE_PCT", "50"}});
  EXPECT_EQ(read_total_cache_config(ok).count_share_pct, 50);
  config::Env bad(std::map<std::string, std::string>{{"LIST_TOTAL_COUNT_SHARE_PCT", "0"}});
  read_total_cache_config(bad);
  EXPECT_THROW(bad.finish(), config::ConfigError);
}

}  // namespace
}  // namespace sales::pg

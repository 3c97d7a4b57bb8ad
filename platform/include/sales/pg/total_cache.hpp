#pragma once
// Recently counted list totals, for every list of every service. A list's `total` is a
// count(*), and over a large, busy table (the catalogue, the customers, the orders) that
// count is a scan costing far more than the page itself, while a storefront or a back
// office asks for the same few totals over and over.
//
// So a page's total is, in this order:
//  - exact from the page itself when the page is the last one (fewer items than the limit):
//    offset + items, no count at all;
//  - a fresh count when the client sent `Cache-Control: no-cache`;
//  - else a count made at most LIST_TOTAL_CACHE_MS ago (1 s by default; 0 counts every
//    time), never less than what this page shows. When it expires, one request counts it
//    again while the others keep getting the last count: one scan at a time per filter.
//    A filter's first count (at start, or after eviction) is waited for by the requests
//    that come meanwhile (until their own deadline), instead of each running it; if it
//    fails, they fail with its error rather than queue up to run it one after another.
//  - A count that took long is kept longer: at least its own duration × 100 /
//    LIST_TOTAL_COUNT_SHARE_PCT (5: twenty times as long; never over a minute), so counting a filter again
//    takes at most that share of one core however large the table grows. Measured at
//    600k products: a search's count took 130-400 ms of CPU; recounted every second for
//    two filters on two cores, the scans pushed the mixed workload's p99 from 39 ms to
//    200-800 ms (every other request waited for a core).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "sales/config/config.hpp"
#include "sales/resilience/clock.hpp"

namespace sales::pg {

struct TotalCacheConfig {
  std::chrono::milliseconds ttl{1000};
  int count_share_pct = 5;         // 1..100: a count is kept ≥ its duration × 100 / this
  std::size_t max_entries = 1024;  // distinct filters kept; beyond that the oldest go first
};

// LIST_TOTAL_CACHE_MS (0..60000, default 1000), LIST_TOTAL_COUNT_SHARE_PCT (1..100, default 5).
TotalCacheConfig read_total_cache_config(config::Env& env);

// The key of a list filtered by an optional id (orders by customer, payments and shipments
// by order) and an optional status: one kept total per filter.
std::string id_status_key(const std::optional<std::int64_t>& id, const std::optional<std::string>& status);

struct PageShown {
  std::int64_t offset;
  std::int64_t limit;
  std::size_t items;  // on this page
  bool fresh;         // the client asked for a fresh count (Cache-Control: no-cache)
  // False for a filter that is cheap to count and seldom asked twice (a list of ids): its
  // total is counted each time, and never takes an entry another filter's costly count needs.
  bool keep = true;
};

class TotalCache {
 public:
  // Keys longer than this (a long search text) are counted every time, never kept.
  static constexpr std::size_t kMaxKeyBytes = 256;

  explicit TotalCache(TotalCacheConfig config = {},
                      const resilience::Clock& clock = resilience::SteadyClock::instance());

  // The total of the list `key` (its filter) that `page` was read from; count() runs
  // without the lock held, when a count is needed.
  std::int64_t total(const std::string& key, const PageShown& page, const std::function<std::int64_t()>& count);

  [[nodiscard]] std::size_t size() const;

 private:
  struct FirstCount {  // a filter's first count, as its waiters see it
    bool done = false;
    std::exception_ptr error;  // why it failed
  };
  struct Entry {
    std::int64_t total;
    resilience::TimePoint counted_at;
    resilience::Duration took;  // how long the count ran
    bool recounting = false;    // expired, and one request is counting it again
    // Set while the filter's first count runs: no total is known yet (`total` means nothing).
    std::shared_ptr<FirstCount> first;
  };
  [[nodiscard]] bool fresh(const Entry& e, resilience::TimePoint now) const;
  // With mu_ held by `lock`: until `first` ended, or the request's deadline (DeadlineExceeded);
  // rethrows its error.
  void wait_for_first_count(std::unique_lock<std::mutex>& lock, std::shared_ptr<FirstCount> first);
  std::int64_t count_and_keep(const std::string& key, const std::function<std::int64_t()>& count, bool recounter);
  void evict_for_one_more(resilience::TimePoint now);  // with mu_ held

  TotalCacheConfig config_;
  const resilience::Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable first_count_;  // a first count ended (kept, or failed)
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace sales::pg

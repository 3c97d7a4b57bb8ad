#include "sales/pg/total_cache.hpp"

#include <algorithm>

#include "sales/pg/pool.hpp"
#include "sales/resilience/deadline.hpp"

namespace sales::pg {

TotalCacheConfig read_total_cache_config(config::Env& env) {
  return {.ttl = env.millis("LIST_TOTAL_CACHE_MS", 1000, 0, 60000),
          .count_share_pct = static_cast<int>(env.integer("LIST_TOTAL_COUNT_SHARE_PCT", 5, 1, 100))};
}

namespace {
// However slow a count was (a load spike, a lock), its total is not kept longer than this.
constexpr resilience::Duration kMaxKeptForCost = std::chrono::minutes(1);

// The counting request's own deadline ended its count (cancelled, or not sent): says
// nothing of the waiters, whose deadlines are their own.
bool cut_by_own_deadline(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const DeadlineExceeded&) {
    return true;
  } catch (const resilience::DeadlineExceeded&) {
    return true;
  } catch (...) {
    return false;
  }
}
}  // namespace

bool TotalCache::fresh(const Entry& e, resilience::TimePoint now) const {
  const auto by_cost = std::min<resilience::Duration>(e.took * 100 / std::max(1, config_.count_share_pct), kMaxKeptForCost);
  return now - e.counted_at < std::max<resilience::Duration>(config_.ttl, by_cost);
}

std::string id_status_key(const std::optional<std::int64_t>& id, const std::optional<std::string>& status) {
  return (id ? std::to_string(*id) : std::string("*")) + "/" + status.value_or("*");
}

TotalCache::TotalCache(TotalCacheConfig config, const resilience::Clock& clock) : config_(config), clock_(clock) {}

std::int64_t TotalCache::total(const std::string& key, const PageShown& page, const std::function<std::int64_t()>& count) {
  const auto shown = page.offset + static_cast<std::int64_t>(page.items);
  // A short page ends the list: its total needs no count. (An empty page past the end
  // says nothing about where the list ended.)
  if (static_cast<std::int64_t>(page.items) < page.limit && (page.items > 0 || page.offset == 0)) return shown;
  bool keep = page.keep && config_.ttl > std::chrono::milliseconds::zero() && config_.max_entries > 0 &&
              key.size() <= kMaxKeyBytes;
  if (!keep) return count();
  bool recounter = false;  // this request's count is the one the others wait on
  if (!page.fresh) {
    std::unique_lock lock(mu_);
    for (;;) {
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        // The filter's first count (at start, or after eviction): the requests behind this
        // one wait for it instead of each running the same scan at once.
        evict_for_one_more(clock_.now());
        entries_.emplace(key, Entry{.total = 0, .counted_at = clock_.now(), .took = {}, .recounting = true,
                                    .first = std::make_shared<FirstCount>()});
        recounter = true;
        break;
      }
      Entry& e = it->second;
      if (e.first) {
        wait_for_first_count(lock, e.first);
        continue;
      }
      // A kept total below what this page shows is certainly stale: it is counted again.
      if (e.total >= shown) {
        if (fresh(e, clock_.now())) return e.total;
        // Expired while another request counts it again: this one makes do with the last
        // count instead of running the same scan beside it.
        if (e.recounting) return e.total;
      }
      recounter = !e.recounting;
      e.recounting = true;
      break;
    }
  }
  return count_and_keep(key, count, recounter);
}

std::int64_t TotalCache::count_and_keep(const std::string& key, const std::function<std::int64_t()>& count,
                                        bool recounter) {
  // Stamped with the time the count began: it saw the table as of then, not as of its end.
  auto began = clock_.now();
  std::int64_t counted = 0;
  try {
    counted = count();
  } catch (...) {
    {
      std::lock_guard lock(mu_);
      if (auto it = entries_.find(key); recounter && it != entries_.end()) {
        if (!it->second.first) {
          it->second.recounting = false;
        } else {
          // A first count that failed: its waiters fail alike (a statement timeout would end
          // theirs too); the next request counts again. One cut by its own request's
          // deadline fails nobody else: a waiter finds no entry and counts in its place.
          it->second.first->done = true;
          if (!cut_by_own_deadline(std::current_exception())) it->second.first->error = std::current_exception();
          entries_.erase(it);
        }
      }
    }
    first_count_.notify_all();
    throw;
  }
  const auto took = clock_.now() - began;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      evict_for_one_more(clock_.now());
      entries_.emplace(key, Entry{.total = counted, .counted_at = began, .took = took, .recounting = false});
    } else {
      Entry& e = it->second;
      const bool was_first = e.first != nullptr;  // no total was known until now
      if (was_first) {
        e.first->done = true;
        e.first.reset();
      }
      if (was_first || began >= e.counted_at) {  // a later count kept meanwhile stays
        e.total = counted;
        e.counted_at = began;
        e.took = took;
      }
      if (recounter) e.recounting = false;
    }
  }
  first_count_.notify_all();  // a count is rare (at most one per filter and lifetime): cheap
  return counted;
}

void TotalCache::wait_for_first_count(std::unique_lock<std::mutex>& lock, std::shared_ptr<FirstCount> first) {
  const auto deadline = resilience::current_deadline();
  auto done = [&] { return first->done; };
  if (deadline == resilience::kNoDeadline) {
    first_count_.wait(lock, done);
  } else if (!first_count_.wait_until(lock, deadline, done)) {
    throw resilience::DeadlineExceeded("the list's total was still being counted at the request's deadline");
  }
  if (first->error) std::rethrow_exception(first->error);
}

std::size_t TotalCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void TotalCache::evict_for_one_more(resilience::TimePoint now) {
  if (entries_.size() < config_.max_entries) return;
  // An expired total being counted again stays: the requests served from it meanwhile need it.
  std::erase_if(entries_, [&](const auto& kv) { return !fresh(kv.second, now) && !kv.second.recounting; });
  if (entries_.size() < config_.max_entries) return;
  // The oldest that no request is counting again; when all are, the map holds a few more
  // for a moment (at most one per request in flight).
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (!it->second.recounting && (oldest == entries_.end() || it->second.counted_at < oldest->second.counted_at)) oldest = it;
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

}  // namespace sales::pg

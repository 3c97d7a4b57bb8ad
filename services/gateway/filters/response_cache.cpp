#include "filters/response_cache.hpp"

#include <algorithm>

#include "domain/paths.hpp"
#include "sales/http/cache_control.hpp"

namespace gateway {

namespace http = sales::http;
using sales::resilience::Duration;

namespace {
constexpr std::size_t kEntryOverhead = 160;  // map node, list node, control block: roughly
constexpr std::size_t kExpiredSweep = 8;     // expired entries dropped from the front per store
constexpr std::string_view kCacheName = "sales-gateway";

bool is_safe(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}
}  // namespace

ResponseCache::ResponseCache(ResponseCacheConfig config, sales::metrics::Registry& registry,
                             const sales::resilience::Clock& clock)
    : config_(config), clock_(clock) {
  const std::string lookups = "gateway_cache_lookups_total";
  const std::string lookups_help = "Lookups in the gateway's response cache";
  const std::string removals = "gateway_cache_removals_total";
  const std::string removals_help = "Entries that left the gateway's response cache";
  hits_ = &registry.counter(lookups, lookups_help, {{"result", "hit"}});
  misses_ = &registry.counter(lookups, lookups_help, {{"result", "miss"}});
  stores_ = &registry.counter("gateway_cache_stores_total", "Answers stored in the gateway's response cache");
  invalidated_ = &registry.counter(removals, removals_help, {{"reason", "invalidated"}});
  evicted_ = &registry.counter(removals, removals_help, {{"reason", "evicted"}});
  expired_ = &registry.counter(removals, removals_help, {{"reason", "expired"}});
  entries_gauge_ = &registry.gauge("gateway_cache_entries", "Entries in the gateway's response cache");
  bytes_gauge_ = &registry.gauge("gateway_cache_bytes", "Approximate bytes held by the gateway's response cache");
}

bool ResponseCache::serves(const http::Request& req) const {
  if (!enabled() || req.method != "GET" || req.target.find('?') != std::string::npos) return false;
  if (req.headers.get("Authorization")) return false;
  // Another spelling of a resource (/products/042/) is always asked upstream: a write to the
  // resource drops only its canonical entry, so a copy under an alias could be stale.
  if (!is_canonical(req.target)) return false;
  auto cc = http::parse_request_cache_control(req.headers);
  return !cc.no_cache && !cc.no_store && !(cc.max_age && cc.max_age->count() == 0);
}

ResponseCache::Lookup ResponseCache::lookup(const http::Request& req) {
  Lookup out;
  std::shared_ptr<const Stored> stored;
  sales::resilience::TimePoint stored_at;
  auto now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    out.ticket.invalidations = invalidations_;
    if (auto it = map_.find(std::string_view(req.target)); it != map_.end()) {
      if (now < it->second.expires) {
        stored = it->second.stored;
        stored_at = it->second.at;
      } else {
        remove_locked(it, expired_);
      }
    }
  }
  if (!stored) {
    misses_->inc();
    return out;
  }
  hits_->inc();
  http::Response r;
  r.headers = stored->headers;
  r.headers.add("Age", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - stored_at).count()));
  r.headers.add("Cache-Status", std::string(kCacheName) + "; hit");
  r.body = stored->body;
  out.hit = std::move(r);
  return out;
}

// An answer with Vary differs by request fields this cache does not key on (RFC 9111 §4.1):
// not stored, so it is never served to a request it was not chosen for. No service sends one.
void ResponseCache::store(const http::Request& req, Ticket ticket, http::Response& res) {
  if (res.status != 200 || res.headers.get("Set-Cookie") || res.headers.get("Vary") ||
      res.body.size() > config_.max_entry_bytes) {
    return;
  }
  auto lifetime = http::parse_cache_control(res.headers).shared_lifetime();
  if (!lifetime) return;
  auto stored = std::make_shared<Stored>();
  // Per answer, not per entity: not stored.
  auto per_answer = [](std::string_view name) { return http::iequals(name, "X-Request-Id") || http::iequals(name, "Age"); };
  const auto& fields = res.headers.fields();
  // Exactly the slots it needs (a message reserves a dozen), and the size counts the slots,
  // not only their text, and both copies of the key: what GATEWAY_CACHE_MAX_BYTES bounds.
  stored->headers.reserve(static_cast<std::size_t>(
      std::count_if(fields.begin(), fields.end(), [&](const auto& f) { return !per_answer(f.first); })));
  std::size_t size = kEntryOverhead + 2 * (sizeof(std::string) + req.target.size()) + res.body.size();
  for (const auto& [name, value] : fields) {
    if (per_answer(name)) continue;
    stored->headers.add(name, value);
    size += sizeof(fields.front()) + name.size() + value.size();
  }
  if (size > config_.max_bytes) return;
  stored->body = res.body;
  auto now = clock_.now();
  auto ttl = std::min<Duration>(*lifetime, config_.max_ttl);
  {
    std::lock_guard lock(mutex_);
    if (ticket.invalidations != invalidations_) return;  // may predate a write: not kept
    for (std::size_t i = 0; i < kExpiredSweep && !oldest_first_.empty(); ++i) {
      auto it = map_.find(std::string_view(oldest_first_.front()));
      if (it->second.expires > now) break;
      remove_locked(it, expired_);
    }
    remove_locked(req.target, nullptr);  // a replaced entry
    evict_locked(size);
    oldest_first_.push_back(req.target);
    map_.emplace(req.target, Entry{std::move(stored), now, now + ttl, size, std::prev(oldest_first_.end())});
    bytes_ += size;
    publish_size_locked();
  }
  stores_->inc();
  res.headers.add("Cache-Status", std::string(kCacheName) + "; fwd=miss; stored");
}

// RFC 9111 §4.4 asks this for non-error answers; every other answer invalidates as well,
// because the write may have happened all the same: after a 5xx or a timeout, and after a 4xx
// too, which may answer a retry (the gateway's, or the pool's resend) of an attempt that
// committed and whose answer was lost: a DELETE applied, then 404.
void ResponseCache::invalidate_after(const http::Request& req, const http::Response& res) {
  if (!enabled() || is_safe(req.method)) return;
  // Entries are kept only under canonical targets without a query (serves()), so the
  // canonical spelling of the write's path is the one entry it can have changed.
  const std::string canonical = canonical_path(req.path());
  std::lock_guard lock(mutex_);
  ++invalidations_;
  if (map_.empty()) return;
  remove_locked(canonical, invalidated_);
  if (auto location = res.headers.get("Location"); location && location->starts_with('/')) {
    remove_locked(*location, invalidated_);
  }
}

std::size_t ResponseCache::entries() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

std::size_t ResponseCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

void ResponseCache::remove_locked(Map::iterator it, sales::metrics::Counter* reason) {
  bytes_ -= it->second.size;
  oldest_first_.erase(it->second.age_order);
  map_.erase(it);
  if (reason) reason->inc();
  publish_size_locked();
}

void ResponseCache::remove_locked(std::string_view key, sales::metrics::Counter* reason) {
  if (auto it = map_.find(key); it != map_.end()) remove_locked(it, reason);
}

void ResponseCache::evict_locked(std::size_t incoming) {
  while (!oldest_first_.empty() &&
         (map_.size() + 1 > config_.max_entries || bytes_ + incoming > config_.max_bytes)) {
    remove_locked(map_.find(std::string_view(oldest_first_.front())), evicted_);
  }
}

void ResponseCache::publish_size_locked() {
  entries_gauge_->set(static_cast<double>(map_.size()));
  bytes_gauge_->set(static_cast<double>(bytes_));
}

}  // namespace gateway

#pragma once
// The gateway's shared HTTP cache (RFC 9111) for answers their service marks cacheable.
//
// Served from it: a GET of a path in its canonical spelling (no trailing slash, no leading
// zeros in an id), without a query, without Authorization and without the client's own
// `Cache-Control: no-cache|no-store`. Stored in it: a 200 to such a GET whose
// Cache-Control allows a shared cache (max-age or s-maxage > 0; no no-store, no-cache or
// private), without Set-Cookie, whose body is at most `max_entry_bytes`; kept for its
// lifetime but never longer than `max_ttl`.
//
// Consistency: a non-error answer to an unsafe method (POST, PUT, PATCH, DELETE) drops its
// target (in its canonical spelling, the only one kept) and its Location (§4.4), and an
// answer fetched while any invalidation happened is not stored, so a write through this
// gateway is never hidden by an older read. A write through another gateway replica, or one
// made by an event, shows after `max_ttl` at most.
//
// Bounded in entries and bytes; when full, the oldest entry goes first. Thread-safe.
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "domain/response_cache_config.hpp"
#include "sales/http/message.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/resilience/clock.hpp"

namespace gateway {

class ResponseCache {
 public:
  // Taken before a miss goes upstream and handed back to store(): the answer is stored only
  // if no invalidation happened in between.
  struct Ticket {
    std::uint64_t invalidations = 0;
  };
  struct Lookup {
    std::optional<sales::http::Response> hit;  // a fresh copy, with Age and Cache-Status
    Ticket ticket;
  };

  ResponseCache(ResponseCacheConfig config, sales::metrics::Registry& registry,
                const sales::resilience::Clock& clock = sales::resilience::SteadyClock::instance());

  [[nodiscard]] bool enabled() const { return config_.max_entries > 0; }
  // Whether this request may be answered from the cache (and its answer stored).
  [[nodiscard]] bool serves(const sales::http::Request& req) const;
  Lookup lookup(const sales::http::Request& req);
  // Keeps the answer to a request that serves() accepted, if the answer allows it.
  void store(const sales::http::Request& req, Ticket ticket, sales::http::Response& res);
  // After any other request: a non-error answer to an unsafe method drops what it changed.
  void invalidate_after(const sales::http::Request& req, const sales::http::Response& res);

  [[nodiscard]] std::size_t entries() const;
  [[nodiscard]] std::size_t bytes() const;

 private:
  struct Stored {
    sales::http::Headers headers;  // the end-to-end fields of the answer, without X-Request-Id
    std::string body;
  };
  struct Entry {
    std::shared_ptr<const Stored> stored;
    sales::resilience::TimePoint at;
    sales::resilience::TimePoint expires;
    std::size_t size;
    std::list<std::string>::iterator age_order;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  using Map = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;

  void remove_locked(Map::iterator it, sales::metrics::Counter* reason);  // `reason` may be null
  void remove_locked(std::string_view key, sales::metrics::Counter* reason);  // if present
  void evict_locked(std::size_t incoming);
  void publish_size_locked();

  ResponseCacheConfig config_;
  const sales::resilience::Clock& clock_;
  mutable std::mutex mutex_;
  Map map_;
  std::list<std::string> oldest_first_;  // keys in the order they were stored
  std::size_t bytes_ = 0;
  std::uint64_t invalidations_ = 0;
  sales::metrics::Counter* hits_;
  sales::metrics::Counter* misses_;
  sales::metrics::Counter* stores_;
  sales::metrics::Counter* invalidated_;
  sales::metrics::Counter* evicted_;
  sales::metrics::Counter* expired_;
  sales::metrics::Gauge* entries_gauge_;
  sales::metrics::Gauge* bytes_gauge_;
};

}  // namespace gateway

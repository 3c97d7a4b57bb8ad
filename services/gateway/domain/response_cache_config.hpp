#pragma once
// The bounds of the gateway's response cache (filters/response_cache.hpp), read by the
// gateway's configuration.
#include <chrono>
#include <cstddef>

namespace gateway {

struct ResponseCacheConfig {
  std::size_t max_entries = 10'000;  // GATEWAY_CACHE_MAX_ENTRIES; 0 turns the cache off
  std::size_t max_bytes = 8u << 20;  // GATEWAY_CACHE_MAX_BYTES
  std::size_t max_entry_bytes = 64u << 10;
  std::chrono::milliseconds max_ttl{500};  // GATEWAY_CACHE_MAX_TTL_MS: caps every lifetime
};

}  // namespace gateway

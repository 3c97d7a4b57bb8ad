#pragma once
// The Cache-Control directives (RFC 9111 §5.2) the gateway's response cache acts on, from
// every Cache-Control field of a message. Unknown directives are ignored, as the RFC asks;
// a max-age that is not a number makes the answer uncacheable instead of guessed at.
#include <chrono>
#include <cstddef>
#include <optional>

#include "sales/http/message.hpp"

namespace gateway {

// The gateway's response cache (filters/response_cache.hpp): its bounds.
struct ResponseCacheConfig {
  std::size_t max_entries = 10'000;  // GATEWAY_CACHE_MAX_ENTRIES; 0 turns the cache off
  std::size_t max_bytes = 8u << 20;  // GATEWAY_CACHE_MAX_BYTES
  std::size_t max_entry_bytes = 64u << 10;
  std::chrono::milliseconds max_ttl{500};  // GATEWAY_CACHE_MAX_TTL_MS: caps every lifetime
};

struct CacheControl {
  bool no_store = false;
  bool no_cache = false;
  bool is_private = false;
  bool malformed = false;
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::chrono::seconds> s_maxage;

  // How long a shared cache may keep the answer (s-maxage wins over max-age, §5.2.2.10);
  // nullopt when it may not keep it at all.
  [[nodiscard]] std::optional<std::chrono::seconds> shared_lifetime() const;
};

CacheControl parse_cache_control(const sales::http::Headers& headers);

}  // namespace gateway

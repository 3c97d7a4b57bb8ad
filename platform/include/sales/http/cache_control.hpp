#pragma once
// The Cache-Control directives (RFC 9111 §5.2) that caches in this system act on: the
// gateway's response cache (requests and responses) and a list's recent total
// (Page::fresh_total). Unknown directives are ignored, as the RFC asks; a max-age that is
// not a number makes the answer uncacheable instead of guessed at.
#include <chrono>
#include <optional>

#include "sales/http/message.hpp"

namespace sales::http {

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

// The directives of every Cache-Control field of a message.
CacheControl parse_cache_control(const Headers& headers);

// The same for a request, where HTTP/1.0's Pragma: no-cache also sets no_cache, but only
// when the request has no Cache-Control field (RFC 9111 §5.4: a client that sends both
// means what its Cache-Control says).
CacheControl parse_request_cache_control(const Headers& headers);

}  // namespace sales::http

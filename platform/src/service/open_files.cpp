#include "sales/service/open_files.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace sales::service {

std::uint64_t raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(limit.rlim_cur);
}

std::size_t connections_within(std::size_t configured, std::uint64_t open_files) {
  configured = std::max<std::size_t>(configured, 1);
  if (open_files == 0) return configured;  // unknown: the accepts' own backoff (server.cpp) is what is left
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(open_files / 2, 1, configured));
}

}  // namespace sales::service

#pragma once
// Who may read the gateway's operator endpoints (GATEWAY_ADMIN_SOURCES). /metrics and
// /gateway/... show every counter and each breaker's state, and cost a render per request
// before the rate limiter: behind a public load balancer, anyone's to read and to scrape.
// With a list, only a TCP peer in it is answered; any other gets the 404 of a path that
// does not exist, so the endpoints' existence is not revealed either. The peer, never
// X-Forwarded-For: a client writes that header itself. /health and /health/... stay open
// to everyone: load balancers and the kubelet probe them.
#include <string_view>

#include "domain/ip_range.hpp"

namespace gateway {

// /metrics, /gateway and /gateway/...: every path whose first segment is one of theirs, in
// any spelling the router reads as them (it skips empty segments: //metrics, /metrics/).
bool is_admin_path(std::string_view path);

// A request for `path` from `peer` (the TCP peer as the server wrote it) is to be answered
// as if the path did not exist: an operator endpoint, a list set, and a peer not in it (or
// not an address at all). An empty list refuses nothing.
bool admin_path_refused(std::string_view path, std::string_view peer, const IpRanges& admin_sources);

}  // namespace gateway

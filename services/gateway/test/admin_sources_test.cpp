// Which paths are the operator endpoints, in every spelling the router reads as them, and
// which peers GATEWAY_ADMIN_SOURCES lets read them.
#include <gtest/gtest.h>

#include "domain/admin_sources.hpp"

namespace gateway {
namespace {

TEST(AdminSources, TheOperatorEndpointsInEverySpellingTheRouterReadsAsThem) {
  for (const char* path : {"/metrics", "//metrics", "/metrics/", "/gateway", "/gateway/circuit-breakers",
                           "/gateway//circuit-breakers/", "///gateway/anything"}) {
    EXPECT_TRUE(is_admin_path(path)) << path;
  }
  for (const char* path : {"/", "", "/health", "/health/live", "/health/ready", "/metricsx", "/gatewayx/1",
                           "/Metrics", "/products/metrics", "/products/1", "/x/gateway"}) {
    EXPECT_FALSE(is_admin_path(path)) << path;
  }
}

TEST(AdminSources, AnEmptyListRefusesNobody) {
  for (const char* peer : {"203.0.113.7", "127.0.0.1", ""}) {
    EXPECT_FALSE(admin_path_refused("/metrics", peer, IpRanges())) << peer;
  }
}

TEST(AdminSources, WithAListOnlyItsPeersReadTheOperatorEndpoints) {
  auto sources = IpRanges::parse("10.0.0.0/8, ::1");
  for (const char* peer : {"10.1.2.3", "::ffff:10.1.2.3", "::1"}) {
    EXPECT_FALSE(admin_path_refused("/metrics", peer, sources)) << peer;
    EXPECT_FALSE(admin_path_refused("/gateway/circuit-breakers", peer, sources)) << peer;
  }
  // A peer the server could not name, or wrote as something else, is not in the list.
  for (const char* peer : {"127.0.0.1", "203.0.113.7", "11.0.0.1", "", "unknown"}) {
    EXPECT_TRUE(admin_path_refused("/metrics", peer, sources)) << peer;
    EXPECT_TRUE(admin_path_refused("//gateway/circuit-breakers/", peer, sources)) << peer;
  }
}

TEST(AdminSources, EveryOtherPathStaysOpenToEveryone) {
  auto sources = IpRanges::parse("10.0.0.0/8");
  for (const char* path : {"/health", "/health/live", "/health/ready", "/products/1", "/nothing"}) {
    EXPECT_FALSE(admin_path_refused(path, "203.0.113.7", sources)) << path;
  }
}

}  // namespace
}  // namespace gateway

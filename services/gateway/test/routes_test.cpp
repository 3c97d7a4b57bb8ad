// Which upstream serves a path: the first path segment, exactly.
#include <gtest/gtest.h>

#include "domain/routes.hpp"
#include "sales/http/message.hpp"

namespace gateway {
namespace {

struct Expected {
  const char* segment;
  UpstreamId id;
  const char* name;
};
constexpr Expected kAll[] = {
    {"products", UpstreamId::Product, "product"},    {"orders", UpstreamId::Order, "order"},
    {"customers", UpstreamId::Customer, "customer"}, {"payments", UpstreamId::Payment, "payment"},
    {"inventory", UpstreamId::Inventory, "inventory"}, {"shipping", UpstreamId::Shipping, "shipping"},
};

TEST(Routes, EveryPrefixAndWhatFollowsItGoesToItsUpstream) {
  for (const auto& e : kAll) {
    const std::string p = std::string("/") + e.segment;
    for (const std::string& path : {p, p + "/", p + "/7", p + "/7/items", p + "/7?x=1", p + "/?page=2"}) {
      auto id = upstream_for(path);
      ASSERT_TRUE(id.has_value()) << path;
      EXPECT_EQ(*id, e.id) << path;
    }
  }
}

TEST(Routes, EveryUpstreamHasItsName) {
  for (const auto& e : kAll) EXPECT_EQ(name_of(e.id), e.name);
  ASSERT_EQ(std::size(kAll), kUpstreamCount);
  for (std::size_t i = 0; i < kUpstreamCount; ++i) EXPECT_EQ(kAllUpstreams[i], kAll[i].id) << i;
}

TEST(Routes, PathsThatOnlyResembleAPrefixGoNowhere) {
  for (const char* path : {"", "/", "//", "//products", "products", "products/7", "/productsx", "/productsx/7",
                           "/product", "/product/7", "/Products", "/PRODUCTS/7", "/orders-x", "/customer",
                           "/x/products", "/gateway/circuit-breakers", "/health", "/health/live", "/metrics",
                           "/ products", "/inventoryx?x=1", "?products"}) {
    EXPECT_FALSE(upstream_for(path).has_value()) << '"' << path << '"';
  }
}

TEST(Routes, TheGatewayRoutesOnThePathOfATargetWithAQuery) {
  // How the gateway calls it: on Request::path(), which leaves the query out.
  sales::http::Request req;
  for (const auto& e : kAll) {
    req.target = std::string("/") + e.segment + "?limit=5&offset=10";
    auto id = upstream_for(req.path());
    ASSERT_TRUE(id.has_value()) << req.target;
    EXPECT_EQ(*id, e.id);
  }
  req.target = "/productsx?limit=5";
  EXPECT_FALSE(upstream_for(req.path()).has_value());
}

// routes.hpp documents "/products/7?x=1 → Product": a query is tolerated after the segment.
// It must then be tolerated right after the segment too, not only after a '/'.
TEST(Routes, AQueryRightAfterThePrefixStillRoutes) {
  for (const auto& e : kAll) {
    const std::string path = std::string("/") + e.segment + "?page=2";
    auto id = upstream_for(path);
    ASSERT_TRUE(id.has_value()) << path;
    EXPECT_EQ(*id, e.id) << path;
  }
  EXPECT_FALSE(upstream_for("/productsx?page=2").has_value());
}

TEST(Routes, TheSeedsStockTakeOutIsRepeatedOnlyWithAnIdempotencyKey) {
  EXPECT_FALSE(safe_to_repeat("PUT", "/inventory/stock", false));
  for (auto* alias : {"/inventory/stock/", "/inventory//stock", "//inventory/stock//"}) {
    EXPECT_FALSE(safe_to_repeat("PUT", alias, false)) << alias << ": inventory reads it as the same take-out";
  }
  EXPECT_TRUE(safe_to_repeat("PUT", "/inventory/stock", true));
  EXPECT_TRUE(safe_to_repeat("PUT", "/products/7", false));
  EXPECT_TRUE(safe_to_repeat("GET", "/inventory/stock", false));
  EXPECT_FALSE(safe_to_repeat("POST", "/orders", false));
  EXPECT_TRUE(safe_to_repeat("POST", "/orders", true));
}

}  // namespace
}  // namespace gateway

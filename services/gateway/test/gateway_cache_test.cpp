// The gateway's response cache over real HTTP: the real sales-gateway binary in front of a
// fake product service that marks its answers cacheable (or not).
#include <gtest/gtest.h>

#include "support/harness.hpp"

namespace gateway_test {
namespace {

class GatewayCache : public GatewayFixture {
 protected:
  Response get_with_id(const std::string& target, const std::string& id) {
    Headers h;
    h.set("X-Request-Id", id);
    return get(gw, target, h);
  }
};

TEST_F(GatewayCache, ACacheableAnswerIsServedAgainWithoutTheUpstream) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});
  auto first = get_with_id("/products/1", "first-request-0001");
  auto second = get_with_id("/products/1", "second-request-002");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(product.count(), 1);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(header(first, "Cache-Status"), "sales-gateway; fwd=miss; stored");
  EXPECT_EQ(header(second, "Cache-Status"), "sales-gateway; hit");
  EXPECT_EQ(header(second, "X-Request-Id"), "second-request-002") << "every answer carries its own request's id";
  EXPECT_EQ(header(second, "X-Fake-Upstream"), "product");
  EXPECT_TRUE(second.headers.get("RateLimit")) << "rate-limit headers on a cached answer too";
  EXPECT_EQ(metric_of({{"result", "hit"}}, "gateway_cache_lookups_total"), 1);
  EXPECT_EQ(get(gw, "/products/2").status, 200);
  EXPECT_EQ(product.count(), 2) << "another target is another entry";
}

// RFC 9110 §6.6.1, RFC 9111 §5.1: the Date of an answer the gateway passes on is the
// origin's, fresh or from the cache (there beside its Age), never a second one of its own.
TEST_F(GatewayCache, AnAnswerPassedOnKeepsTheOriginsDateAlone) {
  constexpr std::string_view kOriginDate = "Sun, 06 Nov 1994 08:49:37 GMT";
  product.date(std::string(kOriginDate));
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});
  for (const auto& r : {get(gw, "/products/1"), get(gw, "/products/1"), get(gw, "/products/1?x=no-cache")}) {
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.count("Date"), 1u);
    EXPECT_EQ(header(r, "Date"), kOriginDate);
  }
  EXPECT_EQ(product.count(), 2) << "the second answer came from the cache";
  auto own = get(gw, "/no-such-route");
  EXPECT_EQ(own.status, 404);
  EXPECT_EQ(own.headers.count("Date"), 1u) << "the gateway's own answers carry its clock's";
  EXPECT_NE(header(own, "Date"), kOriginDate);
}

TEST_F(GatewayCache, AnswersNotMarkedCacheableAlwaysReachTheUpstream) {
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(gw, "/products/1").status, 200);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(get(gw, "/customers/1").status, 200);
  EXPECT_EQ(product.count(), 3);
  EXPECT_EQ(customer.count(), 2);
}

TEST_F(GatewayCache, AWriteThroughTheGatewayIsSeenByTheNextRead) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});
  auto before = get(gw, "/products/1");
  EXPECT_EQ(get(gw, "/products/1").body, before.body);
  for (const char* method : {"PUT", "DELETE"}) {
    EXPECT_EQ(send(gw, method, "/products/1", {}, method == std::string("PUT") ? R"({"price":1})" : "").status, 200);
    auto after = get(gw, "/products/1");
    EXPECT_NE(after.body, before.body) << method << ": the read after the write went to the service";
    EXPECT_NE(header(after, "Cache-Status"), "sales-gateway; hit") << method;
    before = after;
  }
}

// A write answered with a 4xx may have changed the resource all the same: it may answer a
// retry of an attempt that committed and whose answer was lost (a DELETE, then 404). So the
// next read asks the service.
TEST_F(GatewayCache, AWriteAnsweredWithA4xxStillDropsTheEntry) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});
  get(gw, "/products/1");
  product.status = 409;
  EXPECT_EQ(send(gw, "PUT", "/products/1", {}, R"({"price":1})").status, 409);
  product.status = 200;
  auto after = get(gw, "/products/1");
  EXPECT_NE(header(after, "Cache-Status"), "sales-gateway; hit");
  EXPECT_EQ(product.count(), 3);
}

TEST_F(GatewayCache, AClientThatAsksForAFreshAnswerGetsOne) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}});
  get(gw, "/products/1");
  Headers no_cache;
  no_cache.set("Cache-Control", "no-cache");
  auto fresh = get(gw, "/products/1", no_cache);
  EXPECT_EQ(fresh.status, 200);
  EXPECT_EQ(product.count(), 2);
  EXPECT_FALSE(fresh.headers.get("Cache-Status"));
}

TEST_F(GatewayCache, EntriesLiveNoLongerThanTheCap) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "200"}});
  auto start_at = Clock::now();
  get(gw, "/products/1");
  EXPECT_TRUE(eventually([&] { get(gw, "/products/1"); return product.count() >= 2; }, 5s, 20ms));
  EXPECT_GE(since(start_at), 200ms);
}

TEST_F(GatewayCache, TheRateLimitAppliesToCachedAnswersToo) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_TTL_MS", "60000"}, {"GATEWAY_RATE_LIMIT_MAX", "2"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "60000"}});
  EXPECT_EQ(get(gw, "/products/1").status, 200);
  EXPECT_EQ(get(gw, "/products/1").status, 200);
  EXPECT_TRUE(is_problem(get(gw, "/products/1"), 429));
  EXPECT_EQ(product.count(), 1);
}

TEST_F(GatewayCache, ItCanBeTurnedOff) {
  product.cache_control("max-age=60");
  start({{"GATEWAY_CACHE_MAX_ENTRIES", "0"}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(gw, "/products/1").status, 200);
  EXPECT_EQ(product.count(), 3);
}

}  // namespace
}  // namespace gateway_test

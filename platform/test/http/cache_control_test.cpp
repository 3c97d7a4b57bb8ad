// Cache-Control as the gateway's cache and a list's total read it (RFC 9111 §5.2), and
// Pragma in a request (§5.4).
#include <gtest/gtest.h>

#include "sales/http/cache_control.hpp"

namespace sales::http {
namespace {

using std::chrono::seconds;

CacheControl parse(std::initializer_list<const char*> values) {
  Headers h;
  for (const char* v : values) h.add("Cache-Control", v);
  return parse_cache_control(h);
}

TEST(CacheControl, MaxAgeGivesASharedLifetime) {
  EXPECT_EQ(parse({"max-age=1"}).shared_lifetime(), seconds(1));
  EXPECT_EQ(parse({"public, max-age=30"}).shared_lifetime(), seconds(30));
  EXPECT_EQ(parse({"MAX-AGE = 7"}).shared_lifetime(), seconds(7));
  EXPECT_EQ(parse({R"(max-age="5")"}).shared_lifetime(), seconds(5));
}

TEST(CacheControl, SMaxageWinsOverMaxAgeForASharedCache) {
  EXPECT_EQ(parse({"max-age=60, s-maxage=2"}).shared_lifetime(), seconds(2));
  EXPECT_EQ(parse({"s-maxage=3", "max-age=60"}).shared_lifetime(), seconds(3));
}

TEST(CacheControl, DirectivesThatForbidReuseLeaveNoLifetime) {
  for (auto* v : {"no-store, max-age=60", "no-cache, max-age=60", "private, max-age=60", R"(no-cache="Set-Cookie", max-age=9)",
                  "max-age=0", "max-age=-1", "max-age=1x", "max-age=", "public", ""}) {
    EXPECT_FALSE(parse({v}).shared_lifetime().has_value()) << v;
  }
  EXPECT_FALSE(parse({"max-age=60", "no-store"}).shared_lifetime().has_value()) << "the second field counts too";
}

TEST(CacheControl, NoFieldMeansNoLifetime) { EXPECT_FALSE(parse({}).shared_lifetime().has_value()); }

TEST(CacheControl, UnknownDirectivesAreIgnored) {
  auto cc = parse({"immutable, stale-while-revalidate=30, max-age=4, x-custom"});
  EXPECT_EQ(cc.shared_lifetime(), seconds(4));
}

TEST(CacheControl, HugeDeltaSecondsAreCappedNotOverflowed) {
  EXPECT_EQ(parse({"max-age=99999999999999999999999"}).max_age, seconds(std::int64_t{1} << 31));
}

TEST(CacheControl, RequestDirectivesAreReadToo) {
  auto cc = parse({"no-cache"});
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(parse({"no-store"}).no_store);
  EXPECT_EQ(parse({"max-age=0"}).max_age, seconds(0));
}

CacheControl request(std::initializer_list<std::pair<const char*, const char*>> fields) {
  Headers h;
  for (auto [name, value] : fields) h.add(name, value);
  return parse_request_cache_control(h);
}

TEST(RequestCacheControl, ReadsCacheControlLikeAnyMessage) {
  EXPECT_TRUE(request({{"Cache-Control", "no-cache"}}).no_cache);
  EXPECT_TRUE(request({{"cache-control", "max-age=5, No-Cache"}}).no_cache);
  EXPECT_TRUE(request({{"Cache-Control", "no-cache=\"Set-Cookie\""}}).no_cache);
  EXPECT_EQ(request({{"Cache-Control", "max-age=0"}}).max_age, seconds(0));
  EXPECT_FALSE(request({{"Cache-Control", "no-cached, xno-cache"}}).no_cache);
  EXPECT_FALSE(request({{"X-Cache-Control", "no-cache"}}).no_cache);
}

TEST(RequestCacheControl, PragmaNoCacheCountsWhenThereIsNoCacheControl) {
  EXPECT_TRUE(request({{"Pragma", "no-cache"}}).no_cache);
  EXPECT_TRUE(request({{"pragma", "x-token, NO-CACHE"}}).no_cache);
  EXPECT_TRUE(request({{"Pragma", "x-token"}, {"Pragma", "no-cache"}}).no_cache) << "every Pragma field counts";
  EXPECT_FALSE(request({{"Pragma", "x-no-cache"}}).no_cache);
}

TEST(RequestCacheControl, PragmaIsIgnoredBesideCacheControl) {
  EXPECT_FALSE(request({{"Cache-Control", "max-age=60"}, {"Pragma", "no-cache"}}).no_cache);
  EXPECT_FALSE(request({{"Pragma", "no-cache"}, {"Cache-Control", "no-store"}}).no_cache);
  EXPECT_TRUE(request({{"Pragma", "no-cache"}, {"Cache-Control", "no-store"}}).no_store);
}

TEST(RequestCacheControl, AResponsesPragmaMeansNothing) {
  Headers h;
  h.add("Pragma", "no-cache");
  h.add("Cache-Control", "max-age=5");
  EXPECT_EQ(parse_cache_control(h).shared_lifetime(), seconds(5));
  EXPECT_FALSE(parse_cache_control(Headers{}).no_cache);
}

}  // namespace
}  // namespace sales::http

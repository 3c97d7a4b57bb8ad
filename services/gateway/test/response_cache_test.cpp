// The gateway's response cache with a fake clock: what it keeps, for how long, what drops
// it, and its bounds.
#include <gtest/gtest.h>

#include "filters/response_cache.hpp"

namespace gateway {
namespace {

using namespace std::chrono_literals;
using sales::http::Request;
using sales::http::Response;

Request request(std::string method, std::string target, std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  for (auto [k, v] : headers) r.headers.add(k, v);
  return r;
}

Response answer(std::string body, const char* cache_control = "max-age=1", int status = 200) {
  auto r = Response::json(status, std::move(body));
  if (cache_control) r.headers.set("Cache-Control", cache_control);
  r.headers.set("X-Request-Id", "upstream-id");
  return r;
}

std::string header(const Response& r, std::string_view name) { return std::string(r.headers.get(name).value_or("")); }

class ResponseCacheTest : public ::testing::Test {
 protected:
  sales::resilience::FakeClock clock;
  sales::metrics::Registry registry;
  ResponseCacheConfig config{.max_entries = 100, .max_bytes = 1 << 20, .max_entry_bytes = 4096, .max_ttl = 500ms};
  std::unique_ptr<ResponseCache> cache = make();

  std::unique_ptr<ResponseCache> make() { return std::make_unique<ResponseCache>(config, registry, clock); }
  void rebuild() { cache = make(); }

  // A GET that misses, then its answer offered for storing; returns the answer as sent on.
  Response fill(const std::string& target, Response r) {
    auto req = request("GET", target);
    auto found = cache->lookup(req);
    EXPECT_FALSE(found.hit) << target;
    cache->store(req, found.ticket, r);
    return r;
  }
  std::optional<Response> hit(const std::string& target) { return cache->lookup(request("GET", target)).hit; }
  std::uint64_t counter(const std::string& name, const std::string& key, const std::string& value) {
    return registry.counter(name, "", {{key, value}}).value();
  }
};

TEST_F(ResponseCacheTest, AStoredAnswerIsServedWithItsHeadersAgeAndCacheStatus) {
  auto sent = fill("/products/1", answer(R"({"id":1})"));
  EXPECT_EQ(header(sent, "Cache-Status"), "sales-gateway; fwd=miss; stored");
  clock.advance(100ms);
  auto h = hit("/products/1");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, R"({"id":1})");
  EXPECT_EQ(header(*h, "Content-Type"), "application/json");
  EXPECT_EQ(header(*h, "Cache-Control"), "max-age=1");
  EXPECT_EQ(header(*h, "Age"), "0");
  EXPECT_EQ(header(*h, "Cache-Status"), "sales-gateway; hit");
  EXPECT_FALSE(h->headers.get("X-Request-Id")) << "each answer gets its own request's id";
  EXPECT_EQ(counter("gateway_cache_lookups_total", "result", "hit"), 1u);
  EXPECT_EQ(counter("gateway_cache_lookups_total", "result", "miss"), 1u);
  EXPECT_EQ(registry.counter("gateway_cache_stores_total", "").value(), 1u);
}

TEST_F(ResponseCacheTest, AnEntryLivesForTheShorterOfItsMaxAgeAndTheCap) {
  fill("/a", answer("a", "max-age=60"));  // capped at 500 ms
  fill("/b", answer("b", "max-age=60, s-maxage=0"));  // s-maxage=0: not kept at all
  clock.advance(499ms);
  EXPECT_TRUE(hit("/a"));
  EXPECT_FALSE(hit("/b"));
  clock.advance(1ms);
  EXPECT_FALSE(hit("/a"));
  EXPECT_EQ(counter("gateway_cache_removals_total", "reason", "expired"), 1u);
  EXPECT_EQ(cache->entries(), 0u);

  config.max_ttl = 10s;
  rebuild();
  fill("/c", answer("c", "max-age=2"));
  clock.advance(1999ms);
  auto h = hit("/c");
  ASSERT_TRUE(h);
  EXPECT_EQ(header(*h, "Age"), "1");
  clock.advance(1ms);
  EXPECT_FALSE(hit("/c"));
}

TEST_F(ResponseCacheTest, OnlyA200ThatAllowsASharedCacheIsKept) {
  fill("/no-header", answer("x", nullptr));
  fill("/no-store", answer("x", "no-store, max-age=9"));
  fill("/no-cache", answer("x", "no-cache, max-age=9"));
  fill("/private", answer("x", "private, max-age=9"));
  fill("/404", answer("x", "max-age=9", 404));
  fill("/201", answer("x", "max-age=9", 201));
  auto cookie = answer("x");
  cookie.headers.add("Set-Cookie", "a=b");
  fill("/cookie", cookie);
  auto varies = answer("x");  // chosen by a request field the cache does not key on
  varies.headers.add("Vary", "Accept-Language");
  fill("/vary", varies);
  fill("/big", answer(std::string(4097, 'x')));
  for (auto* t : {"/no-header", "/no-store", "/no-cache", "/private", "/404", "/201", "/cookie", "/vary", "/big"}) {
    EXPECT_FALSE(hit(t)) << t;
  }
  EXPECT_EQ(cache->entries(), 0u);
}

TEST_F(ResponseCacheTest, RequestsThatOptOutOrCannotShareAnEntryAreNotServed) {
  EXPECT_TRUE(cache->serves(request("GET", "/products/1")));
  EXPECT_FALSE(cache->serves(request("GET", "/products/1", {{"Cache-Control", "no-cache"}})));
  EXPECT_FALSE(cache->serves(request("GET", "/products/1", {{"Cache-Control", "no-store"}})));
  EXPECT_FALSE(cache->serves(request("GET", "/products/1", {{"Cache-Control", "max-age=0"}})));
  EXPECT_FALSE(cache->serves(request("GET", "/products/1", {{"Pragma", "no-cache"}})));
  EXPECT_FALSE(cache->serves(request("GET", "/products/1", {{"Pragma", "x-token, no-cache"}})));
  EXPECT_TRUE(cache->serves(request("GET", "/products/1", {{"Cache-Control", "max-age=60"}, {"Pragma", "no-cache"}})))
      << "Pragma counts only without Cache-Control (RFC 9111 §5.4)";
  EXPECT_FALSE(cache->serves(request("GET", "/products/1", {{"Authorization", "Bearer x"}})));
  EXPECT_FALSE(cache->serves(request("GET", "/products?q=lamp")));
  // Aliases the services read as /products/42 go upstream: a write drops only the canonical entry.
  for (auto* alias : {"/products/42/", "/products/042", "/products/0042/", "/products//42", "/products/"}) {
    EXPECT_FALSE(cache->serves(request("GET", alias))) << alias;
  }
  EXPECT_TRUE(cache->serves(request("GET", "/products/0"))) << "zero itself is canonical";
  EXPECT_TRUE(cache->serves(request("GET", "/products")));
  for (auto* m : {"HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) EXPECT_FALSE(cache->serves(request(m, "/products/1"))) << m;
  config.max_entries = 0;
  rebuild();
  EXPECT_FALSE(cache->enabled());
  EXPECT_FALSE(cache->serves(request("GET", "/products/1")));
}

// Refused ones too: a 4xx may answer a retry of an attempt that committed (a DELETE, then 404).
TEST_F(ResponseCacheTest, EveryWriteDropsItsTarget) {
  for (int status : {200, 204, 500, 503, 504, 400, 404, 409, 422}) {
    fill("/products/1", answer("old"));
    cache->invalidate_after(request("PUT", "/products/1"), answer("", nullptr, status));
    EXPECT_FALSE(hit("/products/1")) << status;
  }
  fill("/products/3", answer("old"));
  cache->invalidate_after(request("DELETE", "/products/3?soft=1"), answer("", nullptr, 204));
  EXPECT_FALSE(hit("/products/3")) << "the path without the query";
  fill("/products/4", answer("old"));
  auto created = answer("", nullptr, 201);
  created.headers.set("Location", "/products/4");
  cache->invalidate_after(request("POST", "/products"), created);
  EXPECT_FALSE(hit("/products/4")) << "the Location of the answer";
  fill("/products/6", answer("old"));
  cache->invalidate_after(request("PUT", "/products/006/"), answer("", nullptr, 200));
  EXPECT_FALSE(hit("/products/6")) << "a write through an alias drops the canonical entry";
  fill("/products/5", answer("old"));
  cache->invalidate_after(request("GET", "/products/5"), answer("", nullptr, 200));
  cache->invalidate_after(request("HEAD", "/products/5"), answer("", nullptr, 200));
  EXPECT_TRUE(hit("/products/5")) << "safe methods change nothing";
}

TEST_F(ResponseCacheTest, AnAnswerFetchedAcrossAWriteIsNotKept) {
  auto req = request("GET", "/products/1");
  auto miss = cache->lookup(req);  // the read goes upstream, and may see the state before the write
  cache->invalidate_after(request("PUT", "/products/1"), answer("", nullptr, 200));
  auto r = answer("maybe old");
  cache->store(req, miss.ticket, r);
  EXPECT_FALSE(hit("/products/1"));
  EXPECT_FALSE(r.headers.get("Cache-Status"));
  auto again = cache->lookup(req);
  cache->store(req, again.ticket, r);
  EXPECT_TRUE(hit("/products/1")) << "the next read after the write is kept";
}

TEST_F(ResponseCacheTest, WhenFullTheOldestEntryGoesFirst) {
  config.max_entries = 3;
  rebuild();
  for (auto* t : {"/1", "/2", "/3", "/4"}) fill(t, answer(t));
  EXPECT_FALSE(hit("/1"));
  EXPECT_TRUE(hit("/2") && hit("/3") && hit("/4"));
  EXPECT_EQ(cache->entries(), 3u);
  EXPECT_EQ(counter("gateway_cache_removals_total", "reason", "evicted"), 1u);

  config.max_entries = 100;
  config.max_bytes = 2000;
  rebuild();
  for (int i = 0; i < 20; ++i) fill("/p" + std::to_string(i), answer(std::string(300, 'x')));
  EXPECT_LE(cache->bytes(), 2000u);
  EXPECT_GT(cache->entries(), 0u);
  EXPECT_TRUE(hit("/p19"));
  EXPECT_FALSE(hit("/p0"));
}

// GATEWAY_CACHE_MAX_BYTES bounds what entries hold: each field's slot (two strings) counts,
// not only its text, or an entry of many short fields would be counted at a fraction.
TEST_F(ResponseCacheTest, AnEntryIsCountedWithItsFieldsSlots) {
  auto r = answer("{}");
  for (const char* name : {"X-A", "X-B", "X-C", "X-D", "X-E", "X-F", "X-G", "X-H"}) r.headers.set(name, "1");
  const std::size_t fields = r.headers.fields().size() - 1;  // all but X-Request-Id
  fill("/products/1", r);
  EXPECT_GE(cache->bytes(), r.body.size() + fields * sizeof(std::pair<std::string, std::string>));
}

TEST_F(ResponseCacheTest, StoringAgainReplacesTheEntry) {
  fill("/x", answer("one"));
  clock.advance(600ms);
  fill("/x", answer("two"));
  auto h = hit("/x");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->body, "two");
  EXPECT_EQ(cache->entries(), 1u);
}

TEST_F(ResponseCacheTest, ExpiredEntriesAreSweptWhenOthersAreStored) {
  for (int i = 0; i < 5; ++i) fill("/old" + std::to_string(i), answer("x"));
  clock.advance(1s);
  fill("/new", answer("y"));
  EXPECT_EQ(cache->entries(), 1u);
  EXPECT_EQ(counter("gateway_cache_removals_total", "reason", "expired"), 5u);
}

}  // namespace
}  // namespace gateway

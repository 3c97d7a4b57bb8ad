// The CORS policy alone: what GATEWAY_CORS_ALLOWED_ORIGINS accepts, and the fields a
// preflight and an ordinary answer get for a listed origin, another, or none.
#include "domain/cors.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace gateway {
namespace {

namespace http = sales::http;

http::Request request(std::string method, std::string origin = {}, std::string asks_method = {},
                      std::string target = "/products/1") {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  if (!origin.empty()) r.headers.set("Origin", std::move(origin));
  if (!asks_method.empty()) r.headers.set("Access-Control-Request-Method", std::move(asks_method));
  return r;
}

std::string field(const http::Headers& h, std::string_view name) { return std::string(h.get(name).value_or("")); }

std::vector<std::string> all(const http::Headers& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : h.fields()) {
    if (http::iequals(n, name)) out.push_back(v);
  }
  return out;
}

http::Response decorated(const CorsPolicy& p, const http::Request& req, http::Headers headers = {}) {
  http::Response r;
  r.headers = std::move(headers);
  p.decorate(req, r);
  return r;
}

TEST(CorsPolicy, EmptyIsOffAndAStarOrAListIsOn) {
  EXPECT_FALSE(CorsPolicy::parse("").enabled());
  EXPECT_FALSE(CorsPolicy::parse("  ").enabled());
  EXPECT_TRUE(CorsPolicy::parse("*").enabled());
  EXPECT_TRUE(CorsPolicy::parse("https://shop.example").enabled());
  EXPECT_TRUE(CorsPolicy::parse(" https://shop.example , http://localhost:3000,,https://[::1]:8443 ").enabled());
}

// Each entry a browser would never send is refused at start, naming it: otherwise it would
// silently never match and the storefront would fail in every browser.
TEST(CorsPolicy, AnEntryThatIsNotAnOriginAsBrowsersSendItIsRefusedByName) {
  struct Case {
    const char* list;
    const char* named;
  } cases[] = {
      {"shop.example", "shop.example"},
      {"ftp://shop.example", "ftp://shop.example"},
      {"https://shop.example/", "https://shop.example/"},
      {"https://shop.example/app", "https://shop.example/app"},
      {"https://", "https://'"},
      {"https://shop.example,*", "'*'"},
      {"https://shop example", "https://shop example"},
      {"null", "null"},
      {"https://:::", "https://:::"},
      {"http://a]b[", "http://a]b["},
      {"https://shop..example", "https://shop..example"},
      {"https://shop.example:", "https://shop.example:'"},
      {"https://shop.example:99999", ":99999"},
      {"http://localhost:03000", ":03000"},
      {"https://shop.example:443", "default port :443"},
      {"http://shop.example:80", "default port :80"},
      {"http://[0:0:0:0:0:0:0:1]:3000", "[::1]"},
      {"http://[::1", "[::1"},
      {"http://[::1]x", "[::1]x"},
      {"https://ok.example, http://[zz::1]", "[zz::1]"},
      {"http://[127.0.0.1]:3000", "[127.0.0.1]"},
      {"http://[::ffff:127.0.0.1]", "[::ffff:7f00:1]"},
      {"http://127.1", "http://127.1"},
      {"http://127.000.0.1", "http://127.000.0.1"},
      {"http://2130706433", "http://2130706433"},
  };
  for (const auto& c : cases) {
    try {
      CorsPolicy::parse(c.list);
      ADD_FAILURE() << "accepted: " << c.list;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(c.named), std::string::npos) << c.list << ": " << e.what();
    }
  }
  EXPECT_TRUE(CorsPolicy::parse("http://[2001:db8::1]:8080, http://127.0.0.1:3000, https://a-b.example:8443").enabled());
  EXPECT_TRUE(CorsPolicy::parse("http://[::ffff:7f00:1], https://my_shop.example, HTTPS://Shop.Example").enabled());
  auto upper = CorsPolicy::parse("HTTPS://Shop.Example");
  EXPECT_TRUE(upper.preflight(request("OPTIONS", "https://shop.example", "GET")).allowed) << "kept in lower case";
}

TEST(CorsPolicy, APreflightIsOptionsWithOriginAndTheMethodItAsksFor) {
  EXPECT_TRUE(CorsPolicy::is_preflight(request("OPTIONS", "https://shop.example", "POST")));
  EXPECT_FALSE(CorsPolicy::is_preflight(request("OPTIONS", "https://shop.example")));
  EXPECT_FALSE(CorsPolicy::is_preflight(request("OPTIONS")));
  EXPECT_FALSE(CorsPolicy::is_preflight(request("GET", "https://shop.example", "POST")));
}

TEST(CorsPolicy, APreflightFromAListedOriginNamesWhatTheApiTakes) {
  auto p = CorsPolicy::parse("https://admin.example, https://shop.example");
  auto [r, allowed] = p.preflight(request("OPTIONS", "https://shop.example", "POST"));
  EXPECT_TRUE(allowed);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(field(r.headers, "Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_EQ(field(r.headers, "Access-Control-Allow-Methods"), "GET, HEAD, POST, PUT, DELETE");
  for (const char* h : {"Content-Type", "Idempotency-Key", "X-Request-Id", "traceparent", "Pragma"}) {
    EXPECT_NE(field(r.headers, "Access-Control-Allow-Headers").find(h), std::string::npos) << h;
  }
  EXPECT_EQ(field(r.headers, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(field(r.headers, "Vary"), "Origin");
  EXPECT_FALSE(r.headers.get("Access-Control-Allow-Credentials")) << "the API takes no credentials";
  // Origins are compared without regard to case.
  EXPECT_TRUE(p.preflight(request("OPTIONS", "HTTPS://Shop.Example", "GET")).allowed);
}

TEST(CorsPolicy, APreflightFromAnotherOriginIsA403ProblemWithoutAllowFields) {
  auto p = CorsPolicy::parse("https://shop.example");
  for (const char* other : {"https://evil.example", "http://shop.example", "https://shop.example:8443", "null",
                            "https://shop.example.evil.example", "https://evilshop.example"}) {
    auto [r, allowed] = p.preflight(request("OPTIONS", other, "DELETE"));
    EXPECT_FALSE(allowed) << other;
    EXPECT_EQ(r.status, 403) << other;
    EXPECT_EQ(field(r.headers, "Content-Type"), "application/problem+json");
    EXPECT_NE(r.body.find("urn:sales:problem:forbidden"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(other), std::string::npos) << "names the origin: " << r.body;
    EXPECT_FALSE(r.headers.get("Access-Control-Allow-Origin")) << other;
  }
}

// An origin that is not UTF-8 is named as printable text: the problem stays valid JSON.
TEST(CorsPolicy, AnOriginThatIsNotUtf8IsNamedPercentEncoded) {
  auto p = CorsPolicy::parse("https://shop.example");
  auto [r, allowed] = p.preflight(request("OPTIONS", "https://\xff.example", "GET"));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("https://%FF.example"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find('\xff'), std::string::npos) << "the raw byte made the body invalid UTF-8";
}

TEST(CorsPolicy, AnAnswerToAListedOriginMayBeReadByItsScript) {
  auto p = CorsPolicy::parse("https://shop.example");
  http::Headers upstream;
  upstream.set("Vary", "Accept-Encoding");
  auto r = decorated(p, request("GET", "https://shop.example"), upstream);
  EXPECT_EQ(field(r.headers, "Access-Control-Allow-Origin"), "https://shop.example");
  for (const char* h : {"Location", "Allow", "X-Request-Id", "Retry-After", "RateLimit", "Idempotent-Replayed"}) {
    EXPECT_NE(field(r.headers, "Access-Control-Expose-Headers").find(h), std::string::npos) << h;
  }
  EXPECT_EQ(all(r.headers, "Vary"), (std::vector<std::string>{"Accept-Encoding", "Origin"})) << "added, not replaced";
}

TEST(CorsPolicy, AnAnswerToAnotherOriginOrToNoneSaysOnlyThatItVariesByOrigin) {
  auto p = CorsPolicy::parse("https://shop.example");
  for (const char* origin : {"https://evil.example", ""}) {
    auto r = decorated(p, request("GET", origin));
    EXPECT_FALSE(r.headers.get("Access-Control-Allow-Origin")) << origin;
    EXPECT_FALSE(r.headers.get("Access-Control-Expose-Headers")) << origin;
    // A cache must not hand this answer to a listed origin, nor a listed origin's to others.
    EXPECT_EQ(all(r.headers, "Vary"), std::vector<std::string>{"Origin"}) << origin;
  }
}

// Vary is a list spread over any number of fields: Origin is added unless a token is
// exactly Origin (any case) or "*", and the fields already there stay as they were.
TEST(CorsPolicy, VaryGetsOriginOnceWhateverFieldsItHad) {
  auto p = CorsPolicy::parse("https://shop.example");
  auto with = [&](std::vector<std::string> fields) {
    http::Headers h;
    for (auto& f : fields) h.add("Vary", std::move(f));
    return all(decorated(p, request("GET", "https://shop.example"), h).headers, "Vary");
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(with({"X-Originating-Client"}), (V{"X-Originating-Client", "Origin"})) << "a token containing 'origin' is not Origin";
  EXPECT_EQ(with({"Accept-Encoding", "Accept"}), (V{"Accept-Encoding", "Accept", "Origin"})) << "no field lost";
  EXPECT_EQ(with({"Accept, origin"}), (V{"Accept, origin"}));
  EXPECT_EQ(with({"Accept", "ORIGIN"}), (V{"Accept", "ORIGIN"}));
  EXPECT_EQ(with({"*"}), (V{"*"}));
}

// With "*" the answer is the same for every request, with an Origin or without (a page's
// navigation, curl): a cache may hand any of them to any script.
TEST(CorsPolicy, WithAStarEveryAnswerGetsAStarAndNothingVaries) {
  auto p = CorsPolicy::parse("*");
  auto [pre, allowed] = p.preflight(request("OPTIONS", "https://anyone.example", "PUT"));
  EXPECT_TRUE(allowed);
  EXPECT_EQ(field(pre.headers, "Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(pre.headers.get("Vary"));
  for (const char* origin : {"https://anyone.example", ""}) {
    auto r = decorated(p, request("GET", origin));
    EXPECT_EQ(field(r.headers, "Access-Control-Allow-Origin"), "*") << origin;
    EXPECT_NE(field(r.headers, "Access-Control-Expose-Headers"), "") << origin;
    EXPECT_FALSE(r.headers.get("Vary")) << origin;
  }
}

// No browser script needs the operator endpoints; with "*" they would be any page's to read.
TEST(CorsPolicy, TheOperatorEndpointsGetNoFields) {
  for (const char* list : {"*", "https://shop.example"}) {
    auto p = CorsPolicy::parse(list);
    for (const char* target : {"/metrics", "/gateway/circuit-breakers", "/gateway"}) {
      auto r = decorated(p, request("GET", "https://shop.example", "", target));
      EXPECT_TRUE(r.headers.fields().empty()) << list << " " << target;
    }
    auto health = decorated(p, request("GET", "https://shop.example", "", "/health"));
    EXPECT_TRUE(health.headers.get("Access-Control-Allow-Origin")) << "a storefront may check the API is up";
  }
}

}  // namespace
}  // namespace gateway

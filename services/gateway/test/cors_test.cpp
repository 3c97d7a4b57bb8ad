// The CORS policy alone: what GATEWAY_CORS_ALLOWED_ORIGINS accepts, and the fields a
// preflight and an ordinary answer get for a listed origin, another, or none.
#include "domain/cors.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gateway {
namespace {

namespace http = sales::http;

http::Request request(std::string method, std::string origin = {}, std::string asks_method = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = "/products/1";
  if (!origin.empty()) r.headers.set("Origin", std::move(origin));
  if (!asks_method.empty()) r.headers.set("Access-Control-Request-Method", std::move(asks_method));
  return r;
}

std::string field(const http::Headers& h, std::string_view name) { return std::string(h.get(name).value_or("")); }

TEST(CorsPolicy, EmptyIsOffAndAStarOrAListIsOn) {
  EXPECT_FALSE(CorsPolicy::parse("").enabled());
  EXPECT_FALSE(CorsPolicy::parse("  ").enabled());
  EXPECT_TRUE(CorsPolicy::parse("*").enabled());
  EXPECT_TRUE(CorsPolicy::parse("https://shop.example").enabled());
  EXPECT_TRUE(CorsPolicy::parse(" https://shop.example , http://localhost:3000,,https://[::1]:8443 ").enabled());
}

TEST(CorsPolicy, AnEntryThatIsNotAnOriginIsRefusedByName) {
  for (const char* bad : {"shop.example", "ftp://shop.example", "https://shop.example/", "https://shop.example/app",
                          "https://", "https://shop.example,*", "https://shop example", "null"}) {
    try {
      CorsPolicy::parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find('\''), std::string::npos) << "names the entry: " << e.what();
    }
  }
}

TEST(CorsPolicy, APreflightIsOptionsWithOriginAndTheMethodItAsksFor) {
  EXPECT_TRUE(CorsPolicy::is_preflight(request("OPTIONS", "https://shop.example", "POST")));
  EXPECT_FALSE(CorsPolicy::is_preflight(request("OPTIONS", "https://shop.example")));
  EXPECT_FALSE(CorsPolicy::is_preflight(request("OPTIONS")));
  EXPECT_FALSE(CorsPolicy::is_preflight(request("GET", "https://shop.example", "POST")));
}

TEST(CorsPolicy, APreflightFromAListedOriginNamesWhatTheApiTakes) {
  auto p = CorsPolicy::parse("https://admin.example, https://shop.example");
  auto r = p.preflight(request("OPTIONS", "https://shop.example", "POST"));
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(field(r.headers, "Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_EQ(field(r.headers, "Access-Control-Allow-Methods"), "GET, HEAD, POST, PUT, DELETE");
  for (const char* h : {"Content-Type", "Idempotency-Key", "X-Request-Id", "traceparent"}) {
    EXPECT_NE(field(r.headers, "Access-Control-Allow-Headers").find(h), std::string::npos) << h;
  }
  EXPECT_EQ(field(r.headers, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(field(r.headers, "Vary"), "Origin");
  EXPECT_FALSE(r.headers.get("Access-Control-Allow-Credentials")) << "the API takes no credentials";
  // Origins are compared without regard to case.
  EXPECT_EQ(p.preflight(request("OPTIONS", "HTTPS://Shop.Example", "GET")).status, 204);
}

TEST(CorsPolicy, APreflightFromAnotherOriginIsA403ProblemWithoutAllowFields) {
  auto p = CorsPolicy::parse("https://shop.example");
  for (const char* other : {"https://evil.example", "http://shop.example", "https://shop.example:8443", "null"}) {
    auto r = p.preflight(request("OPTIONS", other, "DELETE"));
    EXPECT_EQ(r.status, 403) << other;
    EXPECT_EQ(field(r.headers, "Content-Type"), "application/problem+json");
    EXPECT_NE(r.body.find("urn:sales:problem:forbidden"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(other), std::string::npos) << "names the origin: " << r.body;
    EXPECT_FALSE(r.headers.get("Access-Control-Allow-Origin")) << other;
  }
}

TEST(CorsPolicy, AnAnswerToAListedOriginMayBeReadByItsScript) {
  auto p = CorsPolicy::parse("https://shop.example");
  http::Headers out;
  out.set("Vary", "Accept-Encoding");
  p.decorate(request("GET", "https://shop.example"), out);
  EXPECT_EQ(field(out, "Access-Control-Allow-Origin"), "https://shop.example");
  for (const char* h : {"Location", "X-Request-Id", "Retry-After", "RateLimit", "Idempotent-Replayed"}) {
    EXPECT_NE(field(out, "Access-Control-Expose-Headers").find(h), std::string::npos) << h;
  }
  EXPECT_EQ(field(out, "Vary"), "Accept-Encoding, Origin") << "appended, not replaced";
}

TEST(CorsPolicy, AnAnswerToAnotherOriginOrToNoneSaysOnlyThatItVariesByOrigin) {
  auto p = CorsPolicy::parse("https://shop.example");
  for (const char* origin : {"https://evil.example", ""}) {
    http::Headers out;
    p.decorate(request("GET", origin), out);
    EXPECT_FALSE(out.get("Access-Control-Allow-Origin")) << origin;
    EXPECT_FALSE(out.get("Access-Control-Expose-Headers")) << origin;
    // A cache must not hand this answer to a listed origin, nor a listed origin's to others.
    EXPECT_EQ(field(out, "Vary"), "Origin") << origin;
  }
  http::Headers already;
  already.set("Vary", "origin");
  p.decorate(request("GET"), already);
  EXPECT_EQ(field(already, "Vary"), "origin") << "not twice";
}

TEST(CorsPolicy, WithAStarEveryOriginGetsAStarAndNothingVaries) {
  auto p = CorsPolicy::parse("*");
  auto pre = p.preflight(request("OPTIONS", "https://anyone.example", "PUT"));
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(field(pre.headers, "Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(pre.headers.get("Vary"));
  http::Headers out;
  p.decorate(request("GET", "https://anyone.example"), out);
  EXPECT_EQ(field(out, "Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(out.get("Vary"));
  http::Headers none;
  p.decorate(request("GET"), none);
  EXPECT_FALSE(none.get("Access-Control-Allow-Origin")) << "no Origin, not a cross-origin request";
}

}  // namespace
}  // namespace gateway

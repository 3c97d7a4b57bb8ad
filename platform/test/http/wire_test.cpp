// Message heads as the server and the gateway write them, and the fields that may reach them.
#include "sales/http/wire.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sales::http {
namespace {

TEST(HeadersTest, AFieldFromCodeThatCouldSplitTheMessageIsNeverStored) {
  Headers h;
  h.add("X-Fine", "a value long enough to be read eight bytes at a time");
  h.add("X-Injected", "a\r\nSet-Cookie: evil=1");
  h.add("X-Late-Break", "twenty-four bytes, then\n");
  h.add("X-Nul", std::string("a\0b", 3));
  h.set("X-Bad\r\nName", "v");
  h.add("", "an empty name");
  h.set("X-Fine", "replaced\r");
  ASSERT_EQ(h.fields().size(), 0u) << "set() still removes the fields of that name, then refuses the new one";

  h.add("X-Kept", "0123456789abcdef0123456789abcdef");
  h.set("X-Also-Kept", "tab\tand spaces are fine");
  ASSERT_EQ(h.fields().size(), 2u);
  EXPECT_EQ(h.get("x-kept"), "0123456789abcdef0123456789abcdef");
}

TEST(HeadersTest, ParsedFieldsAreStoredAsGiven) {
  Headers h;
  for (const char* value : {"*/*", "text/plain"}) h.add_unchecked("Accept", value);
  EXPECT_EQ(h.get("ACCEPT"), "*/*");
  EXPECT_EQ(h.fields().back().second, "text/plain");
}

TEST(HeadersTest, FieldsCopiedFromViewsAreStoredAndReplacedLikeOthers) {
  Headers h;
  std::string buffer = "X-Long-Field-Name: a value longer than a short string";
  h.add_unchecked_copy(std::string_view(buffer).substr(0, 17), std::string_view(buffer).substr(19));
  h.add_unchecked_copy("Accept", "*/*");
  buffer.assign(buffer.size(), '?');  // the copies do not share the buffer
  EXPECT_EQ(h.get("x-long-field-name"), "a value longer than a short string");

  h.add_unchecked("accept", "text/plain");
  h.set_unchecked_copy("ACCEPT", "application/json");  // every field of that name goes
  ASSERT_EQ(h.fields().size(), 2u);
  EXPECT_EQ(h.fields().back().first, "ACCEPT");
  EXPECT_EQ(h.fields().back().second, "application/json");
}

TEST(WireTest, AnAbsoluteFormTargetBecomesThePathAndQueryTheRoutesKnow) {
  std::string out = "left over";
  auto origin = [&](std::string_view target) {
    EXPECT_TRUE(wire::assign_origin_form(out, target)) << target;
    return out;
  };
  EXPECT_EQ(origin("http://shop:8080/products/1?x=1"), "/products/1?x=1");
  EXPECT_EQ(origin("HTTPS://shop/products"), "/products");
  EXPECT_EQ(origin("http://shop"), "/");
  EXPECT_EQ(origin("http://shop?x=1"), "/?x=1");
  EXPECT_EQ(origin("/products/1"), "/products/1") << "origin form stays";
  EXPECT_EQ(origin("/http://shop/x"), "/http://shop/x");
  EXPECT_EQ(origin("*"), "*");
  EXPECT_EQ(origin("ftp://shop/x"), "ftp://shop/x") << "not a scheme this server speaks: left for a 404";
  EXPECT_EQ(origin("http://[::1]:8080/x"), "/x");
}

TEST(WireTest, AnAbsoluteFormTargetWithoutAValidAuthorityIsRefused) {
  for (std::string_view target : {"http://", "http:///products", "http://?x=1", "http://user@shop/products",
                                  "http://shop#/admin", "http://shop/x#frag", "http://sh op/x", "http://a,b c/x"}) {
    std::string out = "untouched";
    EXPECT_FALSE(wire::assign_origin_form(out, target)) << target;
    EXPECT_EQ(out, "untouched") << target;
  }
}

TEST(WireTest, AHostValueIsAHostAndAPortOrNothing) {
  for (std::string_view good : {"", "shop", "shop.example:8080", "127.0.0.1", "[::1]:80", "xn--bcher-kva.example"}) {
    EXPECT_TRUE(wire::valid_host(good)) << good;
  }
  for (std::string_view bad : {"a b", "a, b", "user@shop", "shop/x", "shop?x", "shop#x", "\"shop\"", "sh\top"}) {
    EXPECT_FALSE(wire::valid_host(bad)) << bad;
  }
}

TEST(WireTest, ARequestHeadCarriesItsFieldsButNoHopByHopOnes) {
  Headers h;
  h.add_unchecked("Accept", "*/*");
  h.add_unchecked("Connection", "keep-alive");
  h.add_unchecked("Host", "client.example");
  h.add_unchecked("Transfer-Encoding", "chunked");
  h.add("X-Request-Id", "abc");
  std::string out = "left over from the last request";
  wire::request_head(out, "GET", "/products/1?x=1", "127.0.0.1:8001", h, 0);
  EXPECT_EQ(out, "GET /products/1?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nAccept: */*\r\nX-Request-Id: abc\r\n\r\n");

  wire::request_head(out, "POST", "/orders", "order", Headers{}, 0);
  EXPECT_EQ(out, "POST /orders HTTP/1.1\r\nHost: order\r\nContent-Length: 0\r\n\r\n") << "POST always says its length";
}

TEST(WireTest, AResponseHeadSaysItsLengthUnlessItHasNoBody) {
  Headers h;
  h.add("Content-Type", "application/json");
  h.add_unchecked("Content-Length", "999");  // computed here, never copied
  std::string out;
  wire::response_head(out, 201, h, 17, true);
  EXPECT_EQ(out, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n");

  wire::response_head(out, 204, Headers{}, 0, false);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");

  wire::response_head(out, 200, h, std::nullopt, true);  // HEAD, the GET's length unknown
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
}

TEST(WireTest, TheDateLineFollowsTheStatusLine) {
  Headers h;
  h.add("Content-Type", "application/json");
  std::string out;
  wire::response_head(out, 200, h, 2, true, false, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: application/json\r\n"
                 "Content-Length: 2\r\n\r\n");
}

TEST(WireTest, AHeadOfManyFieldsDropsHopByHopOnesWhereverTheyAre) {
  // The first 64 fields' verdicts are remembered between sizing and writing; the rest are asked again.
  Headers h;
  std::string expected = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 70; ++i) {
    std::string name = "X-Field-" + std::to_string(i), value = std::string(static_cast<std::size_t>(i), 'v');
    h.add_unchecked(name, value);
    expected += name + ": " + value + "\r\n";
    if (i == 3 || i == 66) h.add_unchecked("Connection", "keep-alive");
  }
  expected += "Connection: close\r\nContent-Length: 2\r\n\r\n";
  std::string out(5000, 'x');
  wire::response_head(out, 200, h, 2, false);
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace sales::http

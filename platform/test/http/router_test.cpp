#include "sales/http/router.hpp"

#include <gtest/gtest.h>

#include "sales/problem/problem.hpp"

namespace sales::http {
namespace {

Request make(std::string method, std::string target, std::string body = {}, std::string ct = {}) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!ct.empty()) r.headers.set("Content-Type", ct);
  return r;
}

// The answer as the server sends it: a refusal thrown as a problem is rendered.
Response answer_of(const Router& router, Request& req) {
  try {
    return router.dispatch(req);
  } catch (const ProblemError& e) {
    return to_response(e.problem());
  }
}

int status_of(const Router& router, Request req) {
  try {
    return router.dispatch(req).status;
  } catch (const ProblemError& e) {
    return e.problem().status;
  }
}

Router sample() {
  Router r;
  r.get("/items/{id}", [](Request&, const PathParams& p) { return Response::json(200, std::to_string(p.id("id"))); });
  r.post("/items", [](Request&, const PathParams&) { return Response::json(201, "{}"); });
  return r;
}

TEST(Router, MatchesPatternsAndParams) {
  auto router = sample();
  auto req = make("GET", "/items/42?x=1");
  EXPECT_EQ(router.dispatch(req).body, "42");
  EXPECT_EQ(req.route, "/items/{id}");
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  auto router = sample();
  EXPECT_EQ(status_of(router, make("GET", "/nothing")), 404);
  auto req = make("DELETE", "/items");
  auto res = router.dispatch(req);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.get("Allow"), "POST, OPTIONS");
  // A GET route answers HEAD too, and Allow says so (RFC 9110 §9.3.2).
  auto put = make("PUT", "/items/7");
  EXPECT_EQ(router.dispatch(put).headers.get("Allow"), "GET, HEAD, OPTIONS");
}

// A path refused for the caller's reasons (the gateway's operator endpoints) reads as one
// that does not exist: the same problem, the same route label.
TEST(Router, ARefusedPathIsAnsweredAsAnUnknownOne) {
  auto router = sample();
  auto unknown = make("GET", "/nothing");
  auto refused = make("GET", "/nothing");
  Problem from_dispatch, from_refusal;  // a 500 each until thrown
  try {
    (void)router.dispatch(unknown);
  } catch (const ProblemError& e) {
    from_dispatch = e.problem();
  }
  try {
    refuse_unknown_path(refused);
  } catch (const ProblemError& e) {
    from_refusal = e.problem();
  }
  EXPECT_EQ(from_refusal.status, 404);
  EXPECT_EQ(to_response(from_refusal).body, to_response(from_dispatch).body);
  EXPECT_EQ(refused.route, "not_found");
  EXPECT_EQ(refused.route, unknown.route);
}

// RFC 9110 §9.3.7: OPTIONS on a resource says what it allows, and runs no handler.
TEST(Router, OptionsOnAResourceIs204WithAllow) {
  auto router = sample();
  auto req = make("OPTIONS", "/items/7");
  auto res = router.dispatch(req);
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.headers.get("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(req.route, "options");
  EXPECT_EQ(status_of(router, make("OPTIONS", "/nothing")), 404) << "no resource, nothing to allow";
}

TEST(Router, NonNumericOrNonPositiveIdIs404) {
  auto router = sample();
  EXPECT_EQ(status_of(router, make("GET", "/items/abc")), 404);
  EXPECT_EQ(status_of(router, make("GET", "/items/0")), 404);
  EXPECT_EQ(status_of(router, make("GET", "/items/-1")), 404);
  EXPECT_EQ(status_of(router, make("GET", "/items/99999999999999999999")), 404);
}

TEST(Router, NonJsonBodyIs415) {
  auto router = sample();
  EXPECT_EQ(status_of(router, make("POST", "/items", "name=x", "application/x-www-form-urlencoded")), 415);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "")), 415);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "application/json; charset=utf-8")), 201);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "application/merge-patch+json")), 201);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "application/json;charset=\"UTF-8\"")), 201);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", " application/json ; foo=bar")), 201);
  // JSON is UTF-8 (RFC 8259 §8.1): a body declared in another charset is not read as if it were.
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "application/json; charset=latin1")), 415);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "application/json; Charset=UTF-16")), 415);
}

// Two Content-Type fields, one JSON and one not: no longer does their order decide.
TEST(Router, ASecondContentTypeIs400WhicheverComesFirst) {
  auto router = sample();
  auto twice = [](std::string first, std::string second) {
    auto req = make("POST", "/items", "{}", first);
    req.headers.add("Content-Type", std::move(second));
    return req;
  };
  EXPECT_EQ(status_of(router, twice("application/json", "text/plain")), 400);
  EXPECT_EQ(status_of(router, twice("text/plain", "application/json")), 400);
  EXPECT_EQ(status_of(router, twice("application/json", "application/json")), 400);
  EXPECT_EQ(status_of(router, make("POST", "/items", "{}", "application/json")), 201);
}

// RFC 9110 §15.5.16: a coded body is refused (415), saying which coding would do.
TEST(Router, ACompressedBodyIs415WithAcceptEncoding) {
  Router router = sample();
  int posts = 0;
  router.post("/counted", [&](Request&, const PathParams&) { return ++posts, Response::json(201, "{}"); });
  for (const char* coding : {"gzip", "br", "deflate, gzip", "x-unknown"}) {
    auto req = make("POST", "/counted", "{}", "application/json");
    req.headers.set("Content-Encoding", coding);
    auto res = answer_of(router, req);
    EXPECT_EQ(res.status, 415) << coding;
    EXPECT_EQ(res.headers.get("Accept-Encoding"), "identity") << coding;
    EXPECT_NE(res.body.find("Content-Encoding"), std::string::npos) << res.body;
    EXPECT_EQ(req.route, "/counted") << "counted under the route it was asked of";
  }
  EXPECT_EQ(posts, 0) << "the handler ran for a compressed body";
  auto second_field = make("POST", "/counted", "{}", "application/json");
  second_field.headers.add("Content-Encoding", "identity");
  second_field.headers.add("Content-Encoding", "gzip");
  EXPECT_EQ(status_of(router, second_field), 415) << "every field counts, not the first";
  auto identity = make("POST", "/counted", "{}", "application/json");
  identity.headers.set("Content-Encoding", " Identity ");
  EXPECT_EQ(status_of(router, identity), 201);
  auto empty = make("POST", "/counted", "{}", "application/json");
  empty.headers.set("Content-Encoding", "");
  EXPECT_EQ(status_of(router, empty), 201) << "an empty list names no coding";
  auto read = make("GET", "/items/1", "ignored", "text/plain");
  read.headers.set("Content-Encoding", "gzip");
  read.headers.add("Content-Type", "application/json");
  EXPECT_EQ(status_of(router, read), 200) << "a read's body means nothing, however it is framed";
  auto no_body = make("DELETE", "/items/1");
  no_body.headers.set("Content-Encoding", "gzip");
  EXPECT_EQ(status_of(router, no_body), 405) << "no body, nothing coded: routed as any other";
  EXPECT_EQ(posts, 2);
}

TEST(Router, ABodySentToARouteThatTakesNoneStopsAChangeButNotARead) {
  Router router = sample();
  int deletes = 0;
  router.del("/items/{id}", [&](Request&, const PathParams&) { return ++deletes, Response::empty(204); });
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1", "garbage", "application/json")), 400);
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1", "{not json", "application/json")), 400);
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1", R"({"x":1})", "application/json")), 400);
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1", "hello", "text/plain")), 415);
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1", "{}", "")), 415) << "no Content-Type is not JSON";
  EXPECT_EQ(deletes, 0) << "the handler ran for a refused request";
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1")), 204);
  EXPECT_EQ(status_of(router, make("DELETE", "/items/1", " { \r\n } ", "application/json")), 204);
  EXPECT_EQ(deletes, 2);
  EXPECT_EQ(status_of(router, make("GET", "/items/1", "ignored", "text/plain")), 200) << "a read's body means nothing";
}

TEST(Printable, QuotesRequestTextAsValidUtf8) {
  EXPECT_EQ(printable("caf\xC3\xA9"), "caf\xC3\xA9") << "valid UTF-8 stays";
  EXPECT_EQ(printable("a\xFF" "b"), "a%FFb");
  EXPECT_EQ(printable("tab\there"), "tab%09here");
  EXPECT_EQ(printable("x\xC2\x85y"), "x%C2%85y") << "a C1 control is escaped like a C0 one";
  EXPECT_EQ(printable("x\xE2\x80\xA8y"), "x%E2%80%A8y") << "so is the line separator";
  EXPECT_EQ(printable("abcdef", 3), "abc\u2026");
}

TEST(QueryParam, ReadsAKeyAsTheClientMeantIt) {
  EXPECT_EQ(make("GET", "/x?customer%5Fid=7").query_param("customer_id"), "7");
  EXPECT_THROW((void)make("GET", "/x?status=A&st%61tus=B").query_param("status"), ProblemError)
      << "the same parameter, spelt two ways, is still given twice";
  EXPECT_EQ(make("GET", "/x?%ZZ=1").query_keys(), std::vector<std::string>{"%ZZ"}) << "a broken escape stays as sent";
  EXPECT_EQ(make("GET", "/x?%FF=1").query_keys(), std::vector<std::string>{"%FF"}) << "and so does a key that is no UTF-8";
}

TEST(Request, RefusesInvalidUtf8AndNulInParameters) {
  for (const char* bad : {"/x?q=%FF", "/x?q=%C3%28", "/x?q=%ED%A0%80", "/x?q=%C0%AF", "/x?q=%00", "/x?q=%"}) {
    EXPECT_THROW(make("GET", bad).query_param("q"), ProblemError) << bad;
  }
  EXPECT_EQ(make("GET", "/x?q=%E2%98%83").query_param("q"), "\xE2\x98\x83");
}

TEST(Request, DecodesQueryParameters) {
  auto req = make("GET", "/x?q=a%20b+c&email=x%40y.z&bad=%zz");
  EXPECT_EQ(req.query_param("q"), "a b c");
  EXPECT_EQ(req.query_param("email"), "x@y.z");
  EXPECT_THROW(req.query_param("bad"), ProblemError);  // a bad escape is a 400, not "absent"
  EXPECT_EQ(req.query_param("none"), std::nullopt);
}

TEST(Request, AParameterGivenTwiceIsA400NotItsFirstValue) {
  for (const char* twice : {"/x?status=PAID&status=SHIPPED", "/x?status=PAID&status=PAID", "/x?status&status=PAID",
                            "/x?limit=5&q=a&limit=6"}) {
    auto req = make("GET", twice);
    auto name = std::string_view(twice).find("status") != std::string_view::npos ? "status" : "limit";
    try {
      (void)req.query_param(name);
      ADD_FAILURE() << "accepted: " << twice;
    } catch (const ProblemError& e) {
      EXPECT_EQ(e.problem().status, 400) << twice;
      ASSERT_EQ(e.problem().errors.size(), 1u) << twice;
      EXPECT_EQ(e.problem().errors[0].field, name) << twice;
    }
  }
  EXPECT_EQ(make("GET", "/x?limit=5&limit=6&q=a").query_param("q"), "a") << "another parameter given twice is its own affair";
  EXPECT_EQ(make("GET", "/x?statuses=1&status=PAID").query_param("status"), "PAID");
}

}  // namespace
}  // namespace sales::http

// DESIGN §2 (HTTP conventions) for every resource written so far: the same checks run
// against /products and /customers. The gateway's own rules are in gateway_rules_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <functional>
#include <set>
#include <string>

#include "sales/http/http_date.hpp"
#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

namespace json = boost::json;
using sales_test::unique_suffix;

struct Resource {
  const char* name;
  const char* path;
  const char* filter;  // the list's filter parameter
  // A valid creation body whose filter key is `key` (so a count can tell what was created).
  std::function<std::string(const std::string& key)> body;
  std::function<std::string()> new_key;
  std::function<std::int64_t(const std::string& key)> count;
};

Resource products() {
  return {"products", "/products", "q",
          [](const std::string& key) { return "{\"name\":\"" + key + "\",\"price\":1}"; },
          [] { return "e2e-conv-" + unique_suffix(); }, [](const std::string& key) { return product_total(key); }};
}

Resource customers() {
  return {"customers", "/customers", "email",
          [](const std::string& key) { return "{\"name\":\"Conventions\",\"email\":\"" + key + "\"}"; },
          [] { return "conv." + unique_suffix() + "@example.org"; },
          [](const std::string& key) { return customer_total(key); }};
}

void PrintTo(const Resource& r, std::ostream* os) { *os << r.path; }

class Conventions : public ::testing::TestWithParam<Resource> {};

std::string item_path(const Resource& r, std::int64_t id) { return std::string(r.path) + "/" + std::to_string(id); }

TEST_P(Conventions, LimitOutsideOneTo500Is400) {
  const auto& res = GetParam();
  for (const char* bad : {"0", "501", "abc", "-1", "", "1.5", "10abc", "99999999999999999999", "%201"}) {
    auto r = get(std::string(res.path) + "?limit=" + bad);
    EXPECT_TRUE(has_field_error(r, "limit")) << "limit=" << bad;
  }
  for (const char* bad : {"-1", "abc", "1.0", ""}) {
    auto r = get(std::string(res.path) + "?offset=" + bad);
    EXPECT_TRUE(has_field_error(r, "offset")) << "offset=" << bad;
  }
}

TEST_P(Conventions, MalformedPercentEscapesInTheQueryAre400) {
  // A query component that cannot be decoded is invalid input, not an absent parameter.
  const auto& res = GetParam();
  for (std::string param : {"limit", "offset", res.filter}) {
    for (const char* bad : {"%ZZ", "%", "1%G0"}) {
      auto r = get(std::string(res.path) + "?" + param + "=" + bad);
      EXPECT_TRUE(has_field_error(r, param)) << param << "=" << bad;
    }
  }
}

TEST_P(Conventions, AParameterGivenTwiceIs400) {
  // Not its first value: "?status=PAID&status=SHIPPED" may have meant either.
  const auto& res = GetParam();
  for (std::string param : {"limit", "offset", res.filter}) {
    auto r = get(std::string(res.path) + "?" + param + "=1&" + param + "=2");
    EXPECT_TRUE(has_field_error(r, param)) << param << " twice\n" << r;
  }
}

TEST_P(Conventions, InvalidUtf8InAFilterIs400NotA500) {
  // Never a 500 for bad input: bytes that are not UTF-8 cannot match any stored text.
  const auto& res = GetParam();
  for (const char* bad : {"%FF", "a%C3%28b", "%ED%A0%80", "%C0%AF"}) {
    auto r = get(std::string(res.path) + "?" + res.filter + "=" + bad);
    EXPECT_LT(r.status, 500) << res.filter << "=" << bad << "\n" << r;
    if (r.status != 200) {
      EXPECT_TRUE(has_field_error(r, res.filter)) << res.filter << "=" << bad;
    } else {
      EXPECT_EQ(r.at("total"), json::value(0)) << res.filter << "=" << bad;
    }
  }
}

TEST_P(Conventions, NulInAFilterMatchesNothing) {
  // "%00" is a NUL byte: no stored text contains one, so it is a 400 or an empty list,
  // never "no filter at all".
  const auto& res = GetParam();
  ASSERT_EQ(post_json(res.path, res.body(res.new_key())).status, 201);
  for (const char* bad : {"%00", "x%00"}) {
    auto r = get(std::string(res.path) + "?" + res.filter + "=" + bad);
    EXPECT_LT(r.status, 500) << r;
    if (r.status == 200) {
      EXPECT_EQ(r.at("total"), json::value(0)) << res.filter << "=" << bad << " matched\n" << r;
    } else {
      EXPECT_TRUE(has_field_error(r, res.filter)) << res.filter << "=" << bad;
    }
  }
}

TEST_P(Conventions, LimitOneAnd500AreAccepted) {
  const auto& res = GetParam();
  auto key = res.new_key();
  ASSERT_EQ(post_json(res.path, res.body(key)).status, 201);
  for (int limit : {1, 500}) {
    auto r = get(std::string(res.path) + "?limit=" + std::to_string(limit));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.at("limit"), json::value(limit)) << r;
    EXPECT_EQ(r.at("offset"), json::value(0)) << r;
    ASSERT_TRUE(r.at("items").is_array()) << r;
    ASSERT_TRUE(r.at("total").is_int64()) << r;
    auto n = static_cast<std::int64_t>(r.at("items").as_array().size());
    EXPECT_GE(n, 1);
    EXPECT_LE(n, limit);
    EXPECT_EQ(n, std::min<std::int64_t>(limit, r.at("total").as_int64())) << "a page is full unless the list ends";
  }
  auto r = get(std::string(res.path) + "?limit=1&offset=0");
  EXPECT_EQ(r.status, 200) << r;
}

TEST_P(Conventions, BodyOverOneMebibyteIs413AndCreatesNothing) {
  const auto& res = GetParam();
  auto key = res.new_key();
  std::string body = res.body(key);
  body.insert(1, std::string((1 << 20) + 1 - body.size(), ' '));  // valid JSON, one byte too long
  ASSERT_EQ(body.size(), (1u << 20) + 1);
  auto r = post_json(res.path, body);
  EXPECT_TRUE(is_problem(r, 413)) << r;
  EXPECT_EQ(res.count(key), 0);
  // Well over the limit as well.
  body.append(std::size_t(1) << 20, ' ');
  EXPECT_TRUE(is_problem(post_json(res.path, body), 413));
  EXPECT_EQ(res.count(key), 0);
}

TEST_P(Conventions, BodyOfExactlyOneMebibyteIsAccepted) {
  const auto& res = GetParam();
  auto key = res.new_key();
  std::string body = res.body(key);
  body.insert(1, std::string((1 << 20) - body.size(), ' '));
  ASSERT_EQ(body.size(), 1u << 20);
  auto r = post_json(res.path, body);
  EXPECT_EQ(r.status, 201) << "the limit is for bodies *over* 1 MiB\n" << r;
  EXPECT_EQ(res.count(key), 1);
}

TEST_P(Conventions, TooLargeAnswerEchoesTheRequestId) {
  const auto& res = GetParam();
  std::string body = res.body(res.new_key());
  body.insert(1, std::string(1 << 20, ' '));
  auto id = "e2e-big-" + unique_suffix();
  auto r = post_json(res.path, body, {{"X-Request-Id", id}});
  EXPECT_TRUE(is_problem(r, 413));
  EXPECT_EQ(r.header("X-Request-Id"), id) << "every response carries the request's X-Request-Id\n" << r;
}

TEST_P(Conventions, NonJsonBodyIs415AndCreatesNothing) {
  const auto& res = GetParam();
  auto key = res.new_key();
  for (const char* ct : {"text/plain", "application/x-www-form-urlencoded", "application/xml", "text/html; charset=utf-8",
                         "multipart/form-data; boundary=x"}) {
    auto r = request("POST", res.path, res.body(key), ct);
    EXPECT_TRUE(is_problem(r, 415)) << ct;
  }
  auto none = request("POST", res.path, res.body(key), "");  // no Content-Type at all
  EXPECT_TRUE(is_problem(none, 415)) << none;
  EXPECT_EQ(res.count(key), 0);
}

// Framing the service cannot read as given is refused, and creates nothing: a compressed
// body (415 with Accept-Encoding: no service decodes one), JSON declared in a charset other
// than UTF-8 (415), two Content-Types (400, whichever comes first).
TEST_P(Conventions, ABodyFramedAmbiguouslyIsRefusedAndCreatesNothing) {
  const auto& res = GetParam();
  auto key = res.new_key();
  for (const char* coding : {"gzip", "br"}) {
    auto r = request("POST", res.path, res.body(key), "application/json", {{"Content-Encoding", coding}});
    EXPECT_TRUE(is_problem(r, 415)) << coding << "\n" << r;
    EXPECT_EQ(r.header("Accept-Encoding"), "identity") << r;
  }
  auto latin1 = request("POST", res.path, res.body(key), "application/json; charset=latin1");
  EXPECT_TRUE(is_problem(latin1, 415)) << latin1;
  for (auto order : {Headers{{"Content-Type", "application/json"}, {"Content-Type", "text/plain"}},
                     Headers{{"Content-Type", "text/plain"}, {"Content-Type", "application/json"}}}) {
    auto twice = request("POST", res.path, res.body(key), "", order);
    EXPECT_TRUE(is_problem(twice, 400)) << twice;
  }
  EXPECT_EQ(res.count(key), 0);
  auto utf8 = request("POST", res.path, res.body(key), "application/json; charset=UTF-8", {{"Content-Encoding", "identity"}});
  EXPECT_EQ(utf8.status, 201) << utf8;
  EXPECT_EQ(res.count(key), 1);
}

TEST_P(Conventions, RequestIdIsEchoedWhenGiven) {
  const auto& res = GetParam();
  auto id = "e2e-" + unique_suffix();
  auto r = get(std::string(res.path) + "?limit=1", {{"X-Request-Id", id}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Request-Id"), id) << r;
  auto created = post_json(res.path, res.body(res.new_key()), {{"X-Request-Id", id + "-post"}});
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.header("X-Request-Id"), id + "-post");
  auto missing = get(std::string(res.path) + "/999999999999", {{"X-Request-Id", id + "-404"}});
  EXPECT_TRUE(is_problem(missing, 404));
  EXPECT_EQ(missing.header("X-Request-Id"), id + "-404");
  auto invalid = post_json(res.path, std::string("{"), {{"X-Request-Id", id + "-400"}});
  EXPECT_TRUE(is_problem(invalid, 400));
  EXPECT_EQ(invalid.header("X-Request-Id"), id + "-400");
  auto unsupported = request("POST", res.path, "x", "text/plain", {{"X-Request-Id", id + "-415"}});
  EXPECT_TRUE(is_problem(unsupported, 415));
  EXPECT_EQ(unsupported.header("X-Request-Id"), id + "-415");
}

// RFC 9110 §6.6.1: every answer, made by the service or by the gateway, carries one Date,
// the time it was made (a copy from the gateway's cache keeps the origin's, beside an Age).
TEST_P(Conventions, EveryAnswerHasOneDateOfNow) {
  const auto& res = GetParam();
  auto created = post_json(res.path, res.body(res.new_key()));
  ASSERT_EQ(created.status, 201) << created;
  const std::string item = std::string(res.path) + "/" + std::to_string(created.id());
  for (const auto& r : {created, get(item), get(item), get(std::string(res.path) + "?limit=1"),
                        get(std::string(res.path) + "/999999999999"), get(std::string(res.path) + "?limit=0"),
                        request("POST", res.path, "x", "text/plain"), request("PATCH", "/no-such-resource", "")}) {
    ASSERT_EQ(r.headers.count("Date"), 1u) << r;
    std::tm tm{};
    const std::string date = r.header("Date");
    const char* end = strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ASSERT_TRUE(end != nullptr && *end == '\0') << "not an IMF-fixdate: '" << date << "'";
    EXPECT_EQ(sales::http::imf_fixdate(timegm(&tm)), date) << "strptime also takes long names and one digit";
    EXPECT_LE(std::abs(static_cast<long long>(timegm(&tm) - std::time(nullptr))), 5) << date;
  }
}

TEST_P(Conventions, RequestIdIsGeneratedWhenAbsent) {
  const auto& res = GetParam();
  std::set<std::string> ids;
  for (const auto& r : {get(std::string(res.path) + "?limit=1"), get(std::string(res.path) + "/999999999999"),
                        get(std::string(res.path) + "?limit=0"), post_json(res.path, res.body(res.new_key()))}) {
    auto id = r.header("X-Request-Id");
    EXPECT_TRUE(is_hex32(id)) << "generated id '" << id << "' is not 32 hex digits\n" << r;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 4u) << "each request gets its own id";
}

TEST_P(Conventions, WrongMethodIs405WithAllow) {
  const auto& res = GetParam();
  auto key = res.new_key();
  auto created = post_json(res.path, res.body(key));
  ASSERT_EQ(created.status, 201) << created;
  auto item = item_path(res, created.id());
  struct Case {
    std::string method, target;
    std::vector<std::string> allowed;
  } cases[] = {
      {"DELETE", res.path, {"GET", "POST"}},
      {"PUT", res.path, {"GET", "POST"}},
      {"PATCH", item, {"GET", "PUT", "DELETE"}},
      {"POST", item, {"GET", "PUT", "DELETE"}},
  };
  for (const auto& c : cases) {
    auto r = c.method == "POST" || c.method == "PUT" || c.method == "PATCH"
                 ? request(c.method, c.target, "{\"name\":\"x\"}", "application/json")
                 : request(c.method, c.target);
    EXPECT_TRUE(is_problem(r, 405)) << c.method << " " << c.target;
    auto allow = allowed_methods(r);
    for (const auto& m : c.allowed) EXPECT_TRUE(allow.contains(m)) << c.method << " " << c.target << ": Allow: " << r.header("Allow");
  }
  // The wrong method changed nothing (stock, a read copy for products, is left out).
  auto now = get(item).json.as_object(), then = created.json.as_object();
  for (const char* k : {"id", "name", "price", "email", "created_at"}) EXPECT_EQ(now[k], then[k]) << k;
  EXPECT_EQ(res.count(key), 1);
}

TEST_P(Conventions, ErrorsNeverLeakInternals) {
  const auto& res = GetParam();
  // A handful of bad requests; every answer is a problem and none is a 500.
  std::vector<Res> answers = {
      get(std::string(res.path) + "/abc"),
      get(std::string(res.path) + "?limit=x"),
      post_json(res.path, std::string("{\"name\":")),
      post_json(res.path, std::string("[1,2,3]")),
      put_json(std::string(res.path) + "/1x", std::string("{}")),
      del(std::string(res.path) + "/-5"),
  };
  for (const auto& r : answers) {
    EXPECT_GE(r.status, 400) << r;
    EXPECT_LT(r.status, 500) << r;
    EXPECT_TRUE(is_problem(r, r.status));
  }
}

INSTANTIATE_TEST_SUITE_P(Resources, Conventions, ::testing::Values(products(), customers()),
                         [](const ::testing::TestParamInfo<Resource>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace e2e

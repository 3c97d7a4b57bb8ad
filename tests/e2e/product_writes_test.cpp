// DESIGN §2–§3, product service, through the gateway: money, validation, updates,
// deletes, caching and malformed bodies (creating, reading and listing: products_test.cpp).
#include <gtest/gtest.h>

#include <string>

#include "support/api.hpp"
#include "sales_test/env.hpp"
#include "support/products.hpp"

namespace e2e {
namespace {

namespace json = boost::json;
using sales_test::unique_suffix;

// --- money ---------------------------------------------------------------------------------

// The literal the body carries for "price": e.g. "12345678.99".
std::string price_literal(const std::string& body) {
  auto at = body.find("\"price\":");
  if (at == std::string::npos) return {};
  auto start = at + 8;
  auto end = body.find_first_of(",}", start);
  return body.substr(start, end - start);
}

// The literal is `want` exactly, or `want` without trailing fractional zeros ("0.10" as "0.1").
bool same_money_text(std::string got, std::string want) {
  if (got == want) return true;
  if (want.find('.') == std::string::npos) return false;
  while (want.ends_with('0')) want.pop_back();
  if (want.ends_with('.')) want.pop_back();
  return got == want;
}

TEST(Products, MoneyRoundTripsExactly) {
  struct Case {
    const char* literal;
    const char* expected_text;  // how the body must print it
  } cases[] = {{"12345678.99", "12345678.99"}, {"0.10", "0.10"}, {"0.1", "0.10"},        {"19.99", "19.99"},
               {"0.01", "0.01"},               {"0", "0.00"},    {"999999.99", "999999.99"}, {"1000", "1000.00"},
               {"0.07", "0.07"},               {"1.10", "1.10"}};
  for (const auto& c : cases) {
    auto name = "e2e-money-" + unique_suffix();
    auto r = post_json("/products", name_body(name, c.literal));
    ASSERT_EQ(r.status, 201) << c.literal << "\n" << r;
    EXPECT_TRUE(same_money_text(price_literal(r.body), c.expected_text))
        << c.literal << " came back as " << price_literal(r.body);
    auto g = get(product_path(r.id()));
    EXPECT_TRUE(same_money_text(price_literal(g.body), c.expected_text))
        << c.literal << " read back as " << price_literal(g.body);
  }
  // The exact text of the two cases the contract is most often broken on.
  auto big = create_product("e2e-money-big-" + unique_suffix(), "12345678.99");
  EXPECT_NE(big.body.find("\"price\":12345678.99"), std::string::npos) << big.body;
  EXPECT_NE(get(product_path(big.id())).body.find("\"price\":12345678.99"), std::string::npos);
}

TEST(Products, ExactMoneySurvivesUpdates) {
  auto r = create_product("e2e-money-put-" + unique_suffix(), "1");
  auto p = put_json(product_path(r.id()), std::string(R"({"price":12345678.99})"));
  ASSERT_EQ(p.status, 200) << p;
  EXPECT_NE(p.body.find("\"price\":12345678.99"), std::string::npos) << p.body;
  auto g = get(product_path(r.id()));
  EXPECT_NE(g.body.find("\"price\":12345678.99"), std::string::npos) << g.body;
}

TEST(Products, BadMoneyIs400AndCreatesNothing) {
  auto sfx = unique_suffix();
  auto name = "e2e-badmoney-" + sfx;
  for (const char* price : {"1.001", "0.001", "-1", "-0.01", "19.999", "1e-3", "\"12\"", "\"12.00\"", "[12]", "{}",
                            "true", "null", "1e15", "1e300", "99999999999999999999999", "1e400", "NaN", "-Infinity"}) {
    auto r = post_json("/products", name_body(name, price));
    if (std::string_view(price) == "1e400" || std::string_view(price) == "NaN" || std::string_view(price) == "-Infinity") {
      EXPECT_TRUE(is_problem(r, 400)) << "price " << price;  // not JSON at all, or absurd
    } else {
      EXPECT_TRUE(has_field_error(r, "price")) << "price " << price;
    }
  }
  EXPECT_EQ(product_total(name), 0) << "a rejected POST creates nothing";
}

TEST(Products, MoneyWithMoreThanTwoDecimalsIsRefusedEvenBeyondDoublePrecision) {
  // Each literal has a non-zero digit past the second decimal, so it is 400 (DESIGN §2);
  // a binary double rounds them to two decimals (20.00, 12345679.00, 1.10, ...), which
  // would silently change the client's amount.
  auto sfx = unique_suffix();
  auto name = "e2e-precision-" + sfx;
  for (const char* price : {"19.999999999999999", "12345678.999999999", "1.10000000000000000001",
                            "0.1000000000000000055511151231257827", "1.0000000000000001", "999999999.999999999"}) {
    auto r = post_json("/products", name_body(name, price));
    EXPECT_TRUE(has_field_error(r, "price")) << "price " << price << " was taken as " << price_literal(r.body);
  }
  EXPECT_EQ(product_total(name), 0) << "a rejected POST creates nothing";
  auto created = create_product("e2e-precision-put-" + sfx, "5");
  auto p = put_json(product_path(created.id()), std::string(R"({"price":4.999999999999999999})"));
  EXPECT_TRUE(has_field_error(p, "price")) << "PUT price 4.999999999999999999 was taken as " << price_literal(p.body);
  EXPECT_TRUE(same_money_text(price_literal(get(product_path(created.id())).body), "5.00"));
}

TEST(Products, ValidationNamesEveryBadField) {
  auto sfx = unique_suffix();
  auto name = "e2e-invalid-" + sfx;
  struct Case {
    std::string body;
    std::vector<std::string> fields;
  } cases[] = {
      {R"({"price":1})", {"name"}},
      {"{\"name\":\"" + name + "\"}", {"price"}},
      {"{}", {"name", "price"}},
      {R"({"name":null,"price":1})", {"name"}},
      {R"({"name":"","price":1})", {"name"}},
      {R"({"name":"   ","price":1})", {"name"}},
      {R"({"name":"\u00a0\u3000\u200b\ufeff","price":1})", {"name"}},  // shows nothing either
      {R"({"name":123,"price":1})", {"name"}},
      {R"({"name":["x"],"price":1})", {"name"}},
      {R"({"name":{"x":1},"price":1})", {"name"}},
      {R"({"name":true,"price":"x"})", {"name", "price"}},
      {"{\"name\":\"" + name + "\",\"price\":1,\"description\":42}", {"description"}},
      {"{\"name\":\"" + name + "\",\"price\":1,\"stock\":-1}", {"stock"}},
      {"{\"name\":\"" + name + "\",\"price\":1,\"stock\":1.5}", {"stock"}},
      {"{\"name\":\"" + name + "\",\"price\":1,\"stock\":\"3\"}", {"stock"}},
      {"{\"name\":\"" + name + "\",\"price\":1,\"stock\":1e30}", {"stock"}},
      {"{\"name\":\"" + name + "\",\"price\":1,\"stock\":99999999999999999999}", {"stock"}},
      {"{\"name\":\"" + std::string(201, 'x') + "\",\"price\":1}", {"name"}},
      {"{\"name\":\"" + name + "\\u0000\",\"price\":1}", {"name"}},
      {"{\"name\":\"" + name + "\\nline two\",\"price\":1}", {"name"}},
      {"{\"name\":\"" + name + "\\u0007\",\"price\":1}", {"name"}},
  };
  for (const auto& c : cases) {
    auto r = post_json("/products", c.body);
    for (const auto& f : c.fields) EXPECT_TRUE(has_field_error(r, f)) << c.body;
  }
  EXPECT_EQ(product_total(name), 0) << "a rejected POST creates nothing";
}

TEST(Products, IdAndTimestampsCannotBeChosenByTheClient) {
  auto sfx = unique_suffix();
  auto name = "e2e-noid-" + sfx;
  auto r = post_json("/products", "{\"id\":1,\"name\":\"" + name + "\",\"price\":1,\"created_at\":\"2000-01-01T00:00:00Z\"}");
  // Refused, naming each field as the server's (a PUT says the same): never silently dropped.
  EXPECT_TRUE(has_field_error(r, "id")) << r;
  EXPECT_TRUE(has_field_error(r, "created_at")) << r;
  EXPECT_NE(r.body.find("is set by the server"), std::string::npos) << r;
  EXPECT_EQ(product_total(name), 0);
}

// --- update -----------------------------------------------------------------------------

TEST(Products, PutChangesOnlyTheGivenFieldsAndMovesUpdatedAt) {
  auto sfx = unique_suffix();
  auto r = post_json("/products",
                     json::value(json::object{{"name", "e2e-put-" + sfx}, {"price", 1.25}, {"description", "before"}, {"stock", 7}}));
  ASSERT_EQ(r.status, 201) << r;
  auto id = r.id();
  auto created_at = r.str("created_at");
  auto last_update = *rfc3339_micros(r.str("updated_at"));

  auto step = [&](const std::string& body, const char* what) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto p = put_json(product_path(id), body);
    EXPECT_EQ(p.status, 200) << what << "\n" << p;
    expect_product_shape(p);
    EXPECT_EQ(p.str("created_at"), created_at) << what;
    auto upd = rfc3339_micros(p.str("updated_at"));
    EXPECT_TRUE(upd && *upd > last_update) << what << ": updated_at did not move: " << p.str("updated_at");
    if (upd) last_update = *upd;
    auto g = get(product_path(id));
    EXPECT_TRUE(same_product(g, p)) << what << ": GET after PUT differs";
    return p;
  };

  auto p1 = step(R"({"price":2.50})", "price only");
  EXPECT_EQ(p1.str("name"), "e2e-put-" + sfx);
  EXPECT_EQ(p1.str("description"), "before");
  EXPECT_TRUE(same_money_text(price_literal(p1.body), "2.50")) << p1.body;
  EXPECT_EQ(p1.at("stock"), json::value(7));

  auto p2 = step("{\"name\":\"e2e-put-renamed-" + sfx + "\"}", "name only");
  EXPECT_EQ(p2.str("name"), "e2e-put-renamed-" + sfx);
  EXPECT_EQ(p2.str("description"), "before");
  EXPECT_EQ(p2.at("price"), p1.at("price"));

  auto p3 = step(R"({"description":"after"})", "description only");
  EXPECT_EQ(p3.str("description"), "after");
  EXPECT_EQ(p3.str("name"), "e2e-put-renamed-" + sfx);
  EXPECT_EQ(p3.at("price"), p1.at("price"));

  auto p4 = step(R"({"description":null})", "description cleared");
  EXPECT_TRUE(p4.at("description").is_null()) << p4;
  EXPECT_EQ(p4.str("name"), "e2e-put-renamed-" + sfx);

  auto p5 = step("{\"name\":\"e2e-put-all-" + sfx + "\",\"price\":0.10,\"description\":\"all\"}", "all three");
  EXPECT_EQ(p5.str("name"), "e2e-put-all-" + sfx);
  EXPECT_EQ(p5.str("description"), "all");
  EXPECT_TRUE(same_money_text(price_literal(p5.body), "0.10")) << p5.body;
  EXPECT_EQ(p5.at("stock"), json::value(7)) << "PUT never touches stock";
}

TEST(Products, RejectedPutChangesNothing) {
  auto sfx = unique_suffix();
  auto r = post_json("/products",
                     json::value(json::object{{"name", "e2e-badput-" + sfx}, {"price", 4.20}, {"description", "keep"}, {"stock", 3}}));
  ASSERT_EQ(r.status, 201) << r;
  auto id = r.id();
  struct Case {
    const char* body;
    const char* field;  // nullptr: only a 400 problem is required
  } cases[] = {
      {R"({})", nullptr},
      {R"({"price":-1})", "price"},
      {R"({"price":1.001})", "price"},
      {R"({"price":"5"})", "price"},
      {R"({"price":null})", "price"},
      {R"({"price":[5]})", "price"},
      {R"({"name":null})", "name"},
      {R"({"name":""})", "name"},
      {R"({"name":"\u2003"})", "name"},
      {R"({"name":42})", "name"},
      {R"({"description":7})", "description"},
      {R"({"description":"ring\u0007 the bell"})", "description"},
      {R"({"name":"e2e-should-not-stick","price":-5})", "price"},
      {R"({"name":"e2e-should-not-stick","price":"1.00"})", "price"},
      {R"({"name":"ok","price":1,"description":["x"]})", "description"},
      {R"({"name":"e2e-should-not-stick)", nullptr},
      {R"([{"name":"x"}])", nullptr},
      {R"("name")", nullptr},
      {R"(null)", nullptr},
  };
  for (const auto& c : cases) {
    auto p = put_json(product_path(id), std::string(c.body));
    if (c.field) {
      EXPECT_TRUE(has_field_error(p, c.field)) << c.body;
    } else {
      EXPECT_TRUE(is_problem(p, 400)) << c.body;
    }
    auto g = get(product_path(id));
    EXPECT_TRUE(same_product(g, r)) << "after rejected PUT " << c.body;
  }
  // text/plain is 415 and changes nothing either.
  auto t = request("PUT", product_path(id), R"({"price":9})", "text/plain");
  EXPECT_TRUE(is_problem(t, 415)) << t;
  EXPECT_TRUE(same_product(get(product_path(id)), r));
}

TEST(Products, PutCannotChangeStockIdOrCreatedAt) {
  auto r = post_json("/products", json::value(json::object{{"name", "e2e-stock-" + unique_suffix()}, {"price", 1}, {"stock", 4}}));
  ASSERT_EQ(r.status, 201) << r;
  for (const char* body : {R"({"stock":999})", R"({"id":1})", R"({"created_at":"2000-01-01T00:00:00Z"})"}) {
    auto p = put_json(product_path(r.id()), std::string(body));
    EXPECT_TRUE(is_problem(p, 400)) << body << "\n" << p;
    auto g = get(product_path(r.id()));
    EXPECT_EQ(g.at("stock"), json::value(4)) << body;
    EXPECT_EQ(g.id(), r.id());
    EXPECT_EQ(g.str("created_at"), r.str("created_at")) << body;
  }
}

TEST(Products, PutUnknownIdIs404) {
  EXPECT_TRUE(is_problem(put_json("/products/999999999999", std::string(R"({"price":1})")), 404));
  EXPECT_TRUE(is_problem(put_json("/products/abc", std::string(R"({"price":1})")), 404));
}

// --- delete --------------------------------------------------------------------------------

TEST(Products, DeleteIs204ThenEverythingIs404) {
  auto sfx = unique_suffix();
  auto name = "e2e-del-" + sfx;
  auto id = create_product(name, "1").id();
  ASSERT_EQ(product_total(name), 1);
  auto d = del(product_path(id));
  ASSERT_EQ(d.status, 204) << d;
  EXPECT_TRUE(d.body.empty()) << d;
  EXPECT_TRUE(is_problem(get(product_path(id)), 404));
  EXPECT_TRUE(is_problem(del(product_path(id)), 404)) << "a second DELETE";
  EXPECT_TRUE(is_problem(put_json(product_path(id), std::string(R"({"price":2})")), 404));
  EXPECT_EQ(product_total(name), 0) << "gone from the list";
  EXPECT_TRUE(is_problem(del("/products/abc"), 404));
  EXPECT_TRUE(is_problem(del("/products/0"), 404));
}

// A DELETE takes no body: one sent anyway (a payload meant for another call) is refused and
// the product stays; {} is no body.
TEST(Products, ADeleteWithABodyIsRefusedAndDeletesNothing) {
  auto id = create_product("e2e-del-body-" + unique_suffix(), "1").id();
  EXPECT_TRUE(is_problem(request("DELETE", product_path(id), R"({"price":1})", "application/json"), 400));
  EXPECT_TRUE(is_problem(request("DELETE", product_path(id), "garbage", "application/json"), 400));
  EXPECT_TRUE(is_problem(request("DELETE", product_path(id), "id=1", "application/x-www-form-urlencoded"), 415));
  EXPECT_EQ(get(product_path(id)).status, 200) << "a refused DELETE deleted the product";
  EXPECT_EQ(request("DELETE", product_path(id), "{}", "application/json").status, 204);
  EXPECT_TRUE(is_problem(get(product_path(id)), 404));
}

// The gateway reuses a product for at most a second (GATEWAY_CACHE_MAX_TTL_MS caps it), and
// forgets it on a write through the gateway: a client never reads its own write stale.
TEST(Products, AProductReadIsReusedBrieflyAndAWriteShowsAtOnce) {
  auto sfx = unique_suffix();
  auto id = create_product("e2e-cache-" + sfx, "3").id();
  auto first = get(product_path(id));
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.header("Cache-Control"), "max-age=1");
  auto second = get(product_path(id));
  EXPECT_TRUE(same_product(second, first));
  EXPECT_NE(second.header("X-Request-Id"), first.header("X-Request-Id"));
  auto list = get("/products?limit=1");
  EXPECT_FALSE(list.has_header("Cache-Control")) << "lists and searches are not reusable";

  auto changed = put_json(product_path(id), std::string(R"({"price":4.50})"));
  ASSERT_EQ(changed.status, 200) << changed;
  auto after_put = get(product_path(id));
  EXPECT_TRUE(same_money_text(price_literal(after_put.body), "4.50")) << after_put;
  // Other spellings of the same product (read alike by the service) show a write at once
  // too, whichever spelling the write used.
  const std::string alias = "/products/0" + std::to_string(id) + "/";
  ASSERT_EQ(get(alias).status, 200);
  ASSERT_EQ(put_json(alias, std::string(R"({"price":5.25})")).status, 200);
  for (const auto& path : {product_path(id), alias, product_path(id) + "/"}) {
    EXPECT_TRUE(same_money_text(price_literal(get(path).body), "5.25")) << path;
  }
  ASSERT_EQ(del(product_path(id)).status, 204);
  EXPECT_TRUE(is_problem(get(product_path(id)), 404)) << "gone at once, not a second later";
}

// --- request shape -------------------------------------------------------------------------

TEST(Products, MalformedJsonIs400AndCreatesNothing) {
  auto sfx = unique_suffix();
  auto name = "e2e-malformed-" + sfx;
  for (const std::string& body : std::vector<std::string>{"{\"name\":\"" + name + "\",\"price\":1", "{\"name\":\"" + name + "\",\"price\":1,}",
                           "{'name':'" + name + "','price':1}", "{\"name\":\"" + name + "\",\"price\":1} trailing",
                           "{\"name\":\"" + name + "\",\"price\":01}", "{\"name\":\"" + name + "\" \"price\":1}",
                           "{\"name\":\"" + name + "\xff\xfe\",\"price\":1}",           // invalid UTF-8
                           "{\"name\":\"" + name + "\\ud800\",\"price\":1}",            // lone surrogate
                           "{\"name\":\"" + name + "\",\"price\":1}" + std::string(1, '\0'),
                           std::string(100, '[') + std::string(100, ']'),  // deep nesting
                           " ", "nul", "{"}) {
    auto r = post_json("/products", body);
    EXPECT_TRUE(is_problem(r, 400)) << body;
  }
  auto empty = post_json("/products", std::string());
  EXPECT_TRUE(empty.status == 400 || empty.status == 415) << empty;
  EXPECT_TRUE(is_problem(empty, empty.status));
  EXPECT_EQ(product_total(name), 0);
}

TEST(Products, NonObjectJsonIs400) {
  for (const char* body : {"[]", "[{\"name\":\"x\",\"price\":1}]", "\"product\"", "42", "null", "true"}) {
    EXPECT_TRUE(is_problem(post_json("/products", std::string(body)), 400)) << body;
  }
}

TEST(Products, JsonContentTypeWithCharsetIsAccepted) {
  auto name = "e2e-charset-" + unique_suffix();
  auto r = request("POST", "/products", name_body(name, "1"), "application/json; charset=utf-8");
  EXPECT_EQ(r.status, 201) << r;
  EXPECT_EQ(product_total(name), 1);
}

// Hostile or odd bodies get the answer README.md gives for each ("Input limits"), never a
// 500, and a refused one makes nothing.
TEST(Products, HostileInputGetsItsDocumentedAnswer) {
  const auto sfx = unique_suffix();
  struct Case {
    std::string body;
    int status;
    const char* field;  // the field a 400 names, or nullptr (a 400 about the body as a whole)
    const char* price;  // a 201's price as written back
  };
  const std::vector<Case> cases = {
      {"{\"name\":\"" + std::string(5000, 'a') + sfx + "\",\"price\":1}", 400, "name", nullptr},
      {"{\"name\":\"e2e-long-" + sfx + "\",\"price\":1,\"description\":\"" + std::string(100000, 'd') + "\"}", 400,
       "description", nullptr},
      {"{\"name\":\"e2e-twice-" + sfx + "\",\"price\":1,\"name\":\"e2e-dup-" + sfx + "\"}", 400, nullptr, nullptr},
      {"{\"name\":\"e2e-ctl-\\u0001\\u001f-" + sfx + "\",\"price\":1}", 400, "name", nullptr},
      {"{\"name\":\"e2e-negzero-" + sfx + "\",\"price\":-0}", 201, nullptr, "0.00"},
      {"{\"name\":\"e2e-exp-" + sfx + "\",\"price\":1E2}", 201, nullptr, "100.00"},
  };
  for (const auto& c : cases) {
    auto r = post_json("/products", c.body);
    const std::string shown = c.body.substr(0, 80);
    if (c.status == 201) {
      ASSERT_EQ(r.status, 201) << shown << "\n" << r;
      EXPECT_NE(r.body.find(std::string("\"price\":") + c.price + ","), std::string::npos) << shown << "\n" << r;
      EXPECT_TRUE(same_product(get(product_path(r.id())), r));
    } else if (c.field) {
      EXPECT_TRUE(has_field_error(r, c.field)) << shown;
    } else {
      EXPECT_TRUE(is_problem(r, 400)) << shown;
    }
  }
  for (const char* refused : {"e2e-long-", "e2e-twice-", "e2e-dup-", "e2e-ctl-"}) {
    EXPECT_EQ(product_total(refused + sfx), 0) << refused << ": a refused body made a product";
  }
  // Searches: too long, NUL or a broken escape are 400s; a backslash is text like any other.
  EXPECT_TRUE(has_field_error(get("/products?q=" + std::string(300, 'q')), "q"));
  EXPECT_TRUE(has_field_error(get("/products?q=%00"), "q"));
  EXPECT_TRUE(has_field_error(get("/products?q=%ZZ"), "q"));
  EXPECT_EQ(get("/products?q=\\").status, 200);
}

}  // namespace
}  // namespace e2e

// DESIGN §2–§3, product service, through the gateway.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <vector>
#include <thread>

#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

namespace json = boost::json;
using sales_test::unique_suffix;

std::string product_path(std::int64_t id) { return "/products/" + std::to_string(id); }

std::string name_body(std::string_view name, std::string_view price_literal) {
  return "{\"name\":" + json::serialize(json::value(json::string_view(name.data(), name.size()))) +
         ",\"price\":" + std::string(price_literal) + "}";
}

// The same product, allowing for the read copy of stock: inventory events update `stock`
// asynchronously (DESIGN §3), and such an update may move updated_at too. Everything a
// client can write (name, description, price) and id/created_at must be equal; updated_at
// too unless stock changed in between.
::testing::AssertionResult same_product(const Res& a, const Res& b) {
  if (!a.json.is_object() || !b.json.is_object()) return ::testing::AssertionFailure() << "not objects";
  auto x = a.json.as_object(), y = b.json.as_object();
  bool stock_moved = x["stock"] != y["stock"];
  x.erase("stock");
  y.erase("stock");
  if (stock_moved) {
    x.erase("updated_at");
    y.erase("updated_at");
  }
  if (x == y) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << json::serialize(a.json) << "\n  vs " << json::serialize(b.json);
}

// A product as the service returns it must have the contract's shape.
void expect_product_shape(const Res& r) {
  ASSERT_TRUE(r.json.is_object()) << r;
  for (const char* k : {"id", "name", "description", "price", "stock", "created_at", "updated_at"}) {
    EXPECT_TRUE(r.json.as_object().contains(k)) << "missing member " << k << "\n" << r;
  }
  EXPECT_TRUE(r.at("id").is_int64() && r.at("id").as_int64() > 0) << r;
  EXPECT_TRUE(r.at("name").is_string()) << r;
  EXPECT_TRUE(r.at("price").is_number()) << r;
  EXPECT_TRUE(r.at("stock").is_int64()) << r;
  EXPECT_TRUE(r.at("description").is_string() || r.at("description").is_null()) << r;
  EXPECT_TRUE(is_rfc3339_utc(r.str("created_at"))) << r.str("created_at");
  EXPECT_TRUE(is_rfc3339_utc(r.str("updated_at"))) << r.str("updated_at");
}

// --- create / get ---------------------------------------------------------------------

TEST(Products, CreateReturns201WithLocationAndTheProduct) {
  auto name = "e2e-lamp-" + unique_suffix();
  auto body = json::object{{"name", name}, {"price", 19.99}, {"description", "A bright lamp"}, {"stock", 5}};
  auto r = post_json("/products", json::value(body));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << r;
  expect_product_shape(r);
  auto id = r.id();
  ASSERT_GT(id, 0);
  // Location names the new resource (absolute path or absolute URL ending in it).
  auto loc = r.header("Location");
  ASSERT_FALSE(loc.empty()) << r;
  EXPECT_TRUE(loc == product_path(id) || loc.ends_with(product_path(id))) << loc;
  EXPECT_EQ(r.str("name"), name);
  EXPECT_EQ(r.str("description"), "A bright lamp");
  EXPECT_NE(r.body.find("\"price\":19.99"), std::string::npos) << r.body;
  EXPECT_EQ(r.at("stock").as_int64(), 5);
  EXPECT_EQ(r.str("created_at"), r.str("updated_at"));
  // The creation time is now (give the clocks a generous minute).
  auto created = rfc3339_micros(r.str("created_at"));
  ASSERT_TRUE(created);
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LT(std::llabs(now - *created), 60'000'000LL) << r.str("created_at");

  auto g = get(product_path(id));
  ASSERT_EQ(g.status, 200) << g;
  expect_product_shape(g);
  EXPECT_TRUE(same_product(g, r)) << "GET returns what POST returned";
}

TEST(Products, CreateWithOnlyNameAndPriceDefaultsTheRest) {
  auto name = "e2e-plain-" + unique_suffix();
  auto r = post_json("/products", name_body(name, "3"));
  ASSERT_EQ(r.status, 201) << r;
  expect_product_shape(r);
  EXPECT_TRUE(r.at("description").is_null()) << r;
  EXPECT_EQ(r.at("stock"), json::value(0)) << r;
  EXPECT_EQ(r.at("price").to_number<double>(), 3.0) << r;
}

TEST(Products, GetUnknownOrMalformedIdIs404Problem) {
  for (const char* target : {"/products/999999999999", "/products/abc", "/products/0", "/products/-1",
                             "/products/1.5", "/products/99999999999999999999999", "/products/%20"}) {
    auto r = get(target);
    EXPECT_TRUE(is_problem(r, 404)) << target;
  }
}

// --- list, pagination, filters -----------------------------------------------------------

TEST(Products, ListHasTheEnvelopeAndFiltersByNameSubstring) {
  auto sfx = unique_suffix();
  std::set<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) ids.insert(create_product("e2e-list-" + sfx + "-" + std::to_string(i), "1.50").id());
  create_product("e2e-other-" + unique_suffix(), "1");  // not matched by the filter

  auto r = get("/products?q=" + url_encode("list-" + sfx));
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_TRUE(r.json.is_object()) << r;
  ASSERT_TRUE(r.at("items").is_array()) << r;
  EXPECT_EQ(r.at("total"), json::value(3)) << r;
  EXPECT_EQ(r.at("limit"), json::value(50)) << "the default limit is 50\n" << r;
  EXPECT_EQ(r.at("offset"), json::value(0)) << r;
  std::set<std::int64_t> got;
  for (const auto& item : r.at("items").as_array()) {
    ASSERT_TRUE(item.is_object());
    got.insert(item.as_object().at("id").as_int64());
    EXPECT_TRUE(item.as_object().contains("price"));
    EXPECT_TRUE(item.as_object().contains("created_at"));
  }
  EXPECT_EQ(got, ids);
}

// ?ids= (an extension of the contract: the order service prices an order's products with
// one call): the ones of these ids that exist, by id, with q narrowing them further.
TEST(Products, AListOfIdsAnswersTheOnesThatExist) {
  auto sfx = unique_suffix();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(create_product("e2e-ids-" + sfx + "-" + std::to_string(i), "2.25").id());
  ASSERT_EQ(del("/products/" + std::to_string(ids[1])).status, 204);
  const std::string wanted = std::to_string(ids[2]) + "," + std::to_string(ids[0]) + "," + std::to_string(ids[1]) +
                             "," + std::to_string(ids[0]);
  auto r = get("/products?ids=" + wanted);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.at("total"), json::value(2)) << "the deleted one is not there\n" << r;
  ASSERT_EQ(r.at("items").as_array().size(), 2u) << r;
  EXPECT_EQ(r.at("items").as_array()[0].as_object().at("id"), json::value(ids[0])) << r;
  EXPECT_EQ(r.at("items").as_array()[1].as_object().at("id"), json::value(ids[2])) << r;
  EXPECT_NE(r.body.find("\"price\":2.25"), std::string::npos) << r;

  auto narrowed = get("/products?ids=" + wanted + "&q=" + url_encode(sfx + "-2"));
  ASSERT_EQ(narrowed.status, 200) << narrowed;
  EXPECT_EQ(narrowed.at("total"), json::value(1)) << narrowed;

  std::string too_many;
  for (int i = 1; i <= 101; ++i) too_many += (i > 1 ? "," : "") + std::to_string(i);
  for (const std::string& bad : {std::string("1,,2"), std::string("abc"), std::string(""), std::string("0"), too_many}) {
    EXPECT_TRUE(has_field_error(get("/products?ids=" + bad), "ids")) << bad.substr(0, 40);
  }
  // Every bad filter is named in the one answer.
  auto both = get("/products?ids=0&q=" + std::string(201, 'x'));
  EXPECT_TRUE(has_field_error(both, "ids")) << both;
  EXPECT_TRUE(has_field_error(both, "q")) << both;
}

TEST(Products, UnfilteredListCountsEverything) {
  create_product("e2e-count-" + unique_suffix(), "1");
  auto r = get("/products?limit=1");
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_TRUE(r.at("total").is_int64()) << r;
  EXPECT_GE(r.at("total").as_int64(), 1);
  EXPECT_EQ(r.at("items").as_array().size(), 1u) << r;
  EXPECT_EQ(r.at("limit"), json::value(1));
}

TEST(Products, ConcurrentCreatesGetDistinctIds) {
  auto sfx = unique_suffix();
  constexpr int kThreads = 8;
  std::vector<std::int64_t> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = post_json("/products", name_body("e2e-conc-" + sfx + "-" + std::to_string(i), "1.99"));
      ids[i] = r.status == 201 ? r.id() : -r.status;
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads));
  for (auto id : ids) EXPECT_GT(id, 0);
  EXPECT_EQ(product_total("e2e-conc-" + sfx), kThreads);
}

// Idempotency-Key (as on orders and payments): the gateway retries a POST that carries one
// after an attempt timed out, and that attempt may have committed: one product, and one
// product.created event (its stock handed to inventory once).
TEST(Products, ARepeatWithTheSameKeyGetsTheFirstProductAndMakesNoOther) {
  auto sfx = unique_suffix();
  std::string key = "product-" + sfx;
  std::string body = name_body("e2e-keyed-" + sfx, "4.20");
  auto first = post_json("/products", body, {{"Idempotency-Key", key}});
  ASSERT_EQ(first.status, 201) << first;
  EXPECT_FALSE(first.has_header("Idempotent-Replayed"));
  auto again = post_json("/products", body, {{"Idempotency-Key", key}});
  EXPECT_EQ(again.status, 201) << again;
  EXPECT_EQ(again.json, first.json);
  EXPECT_EQ(again.header("Location"), first.header("Location"));
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(product_total("e2e-keyed-" + sfx), 1);
  // The key with another body: 422, and nothing is made.
  auto other = post_json("/products", name_body("e2e-keyed-other-" + sfx, "4.20"), {{"Idempotency-Key", key}});
  EXPECT_TRUE(is_problem(other, 422)) << other;
  EXPECT_EQ(product_total("e2e-keyed-other-" + sfx), 0);
  // Concurrent repeats of one new key: one product.
  constexpr int kThreads = 6;
  std::vector<std::int64_t> ids(kThreads);
  std::vector<std::thread> threads;
  std::string racing = name_body("e2e-keyed-race-" + sfx, "1.00");
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = post_json("/products", racing, {{"Idempotency-Key", key + "-race"}});
      ids[i] = r.status == 201 ? r.id() : -r.status;
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> made;
  for (auto id : ids) {
    if (id > 0) made.insert(id);
    else EXPECT_EQ(id, -409) << "a repeat is the first answer, or 409 (retry shortly)";
  }
  EXPECT_EQ(made.size(), 1u);
  EXPECT_EQ(product_total("e2e-keyed-race-" + sfx), 1);
}

TEST(Products, NameFilterIsCaseInsensitive) {
  auto sfx = unique_suffix();
  auto id = create_product("e2e-Case-" + sfx + "-MiXeD", "1").id();
  std::string upper = sfx;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& q : {"CASE-" + upper + "-mixed", "case-" + sfx, upper}) {
    auto r = get("/products?q=" + url_encode(q));
    ASSERT_EQ(r.status, 200) << r;
    ASSERT_EQ(r.at("total"), json::value(1)) << q << "\n" << r;
    EXPECT_EQ(r.at("items").as_array()[0].as_object().at("id").as_int64(), id);
  }
  EXPECT_EQ(product_total("e2e-case-" + sfx + "-nope"), 0);
}

TEST(Products, PaginationWalksTheFilteredListWithoutOverlap) {
  auto sfx = unique_suffix();
  std::set<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.insert(create_product("e2e-page-" + sfx + "-" + std::to_string(i), "2").id());
  std::set<std::int64_t> seen;
  std::size_t pages = 0;
  for (int offset = 0; offset < 6; offset += 2) {
    auto r = get("/products?q=" + url_encode(sfx) + "&limit=2&offset=" + std::to_string(offset));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.at("total"), json::value(5)) << r;
    EXPECT_EQ(r.at("limit"), json::value(2)) << r;
    EXPECT_EQ(r.at("offset"), json::value(offset)) << r;
    auto& items = r.at("items").as_array();
    EXPECT_EQ(items.size(), offset < 4 ? 2u : 1u) << r;
    for (const auto& it : items) EXPECT_TRUE(seen.insert(it.as_object().at("id").as_int64()).second) << "duplicate across pages";
    ++pages;
  }
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(seen, ids);
  // Past the end: empty page, same total.
  auto r = get("/products?q=" + url_encode(sfx) + "&offset=5");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_TRUE(r.at("items").as_array().empty()) << r;
  EXPECT_EQ(r.at("total"), json::value(5)) << r;
}

TEST(Products, FilterMatchesPercentAndUnderscoreLiterally) {
  auto sfx = unique_suffix();
  auto literal = create_product("e2e-100%_off-" + sfx, "1").id();
  create_product("e2e-100xyoff-" + sfx, "1");  // would match a LIKE '%%_off%' pattern
  create_product("e2e-100%xoff-" + sfx, "1");  // would match if '_' were a wildcard
  auto r = get("/products?q=" + url_encode("%_off-" + sfx));
  ASSERT_EQ(r.status, 200) << r;
  ASSERT_EQ(r.at("total"), json::value(1)) << r;
  EXPECT_EQ(r.at("items").as_array()[0].as_object().at("id").as_int64(), literal);
  EXPECT_EQ(product_total("e2e-100_" + sfx), 0) << "'_' is not a wildcard";
  // A backslash is a character too, not LIKE's escape.
  auto slashed = create_product("e2e-a\\%b-" + sfx, "1").id();
  create_product("e2e-a%b-" + sfx, "1");     // would match if q's '\' escaped its '%'
  create_product("e2e-a\\xyzb-" + sfx, "1");  // would match if q's '\' went unescaped ('%' a wildcard)
  auto s = get("/products?q=" + url_encode("a\\%b-" + sfx));
  ASSERT_EQ(s.status, 200) << s;
  ASSERT_EQ(s.at("total"), json::value(1)) << s;
  EXPECT_EQ(s.at("items").as_array()[0].as_object().at("id").as_int64(), slashed);
  // A lone '%' matches only names containing '%' (four of ours), never everything.
  auto all = get("/products?limit=1");
  auto pct = get("/products?limit=1&q=%25");
  ASSERT_EQ(pct.status, 200) << pct;
  EXPECT_LT(pct.at("total").as_int64(), all.at("total").as_int64()) << "q=% must not match every product";
}

TEST(Products, SqlLookingTextIsStoredAndMatchedLiterally) {
  auto sfx = unique_suffix();
  std::string nasty = "'; DROP TABLE products; -- " + sfx;
  std::string desc = "Robert'); DELETE FROM products WHERE ('1'='1 \\ \" $1 ::text";
  auto r = post_json("/products", json::value(json::object{{"name", nasty}, {"price", 1}, {"description", desc}}));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.str("name"), nasty);
  EXPECT_EQ(r.str("description"), desc);
  auto g = get(product_path(r.id()));
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.str("name"), nasty);
  EXPECT_EQ(g.str("description"), desc);
  auto l = get("/products?q=" + url_encode("'; DROP TABLE products; -- " + sfx));
  ASSERT_EQ(l.status, 200) << l;
  EXPECT_EQ(l.at("total"), json::value(1)) << l;
  // The table is still there.
  EXPECT_EQ(get("/products?limit=1").status, 200);
}

TEST(Products, UnicodeRoundTripsExactly) {
  auto sfx = unique_suffix();
  // Emoji (4-byte UTF-8, a ZWJ sequence), CJK, a combining accent (e + U+0301), RTL text.
  std::string name = "e2e-Caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x9A\x80 \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB "
                     "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E e\xCC\x81 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D " + sfx;
  std::string desc = "\xE8\xBF\x99\xE6\x98\xAF\xE4\xB8\x80\xE4\xB8\xAA\xE6\x8F\x8F\xE8\xBF\xB0 \xF0\x9F\x98\x80\n\ttab";
  auto r = post_json("/products", json::value(json::object{{"name", name}, {"price", 1}, {"description", desc}}));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.str("name"), name);
  EXPECT_EQ(r.str("description"), desc);
  auto g = get(product_path(r.id()));
  EXPECT_EQ(g.str("name"), name);
  EXPECT_EQ(g.str("description"), desc);
  // Filtering by a non-ASCII substring finds it; so does an escaped form of the request.
  EXPECT_EQ(product_total("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E e\xCC\x81 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D " + sfx), 1);
  EXPECT_EQ(product_total("\xF0\x9F\x9A\x80 \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E e\xCC\x81 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D " + sfx), 1);
  auto escaped = post_json("/products", "{\"name\":\"e2e-\\u65e5\\ud83d\\ude80-" + sfx + "\",\"price\":1}");
  ASSERT_EQ(escaped.status, 201) << escaped;
  EXPECT_EQ(escaped.str("name"), "e2e-\xE6\x97\xA5\xF0\x9F\x9A\x80-" + sfx);
}

TEST(Products, NameLengthCountsCharactersNotBytes) {
  // 200 characters of 4 bytes each is a valid name (the limit is 200 characters)...
  std::string rocket = "\xF0\x9F\x9A\x80";
  std::string name;
  for (int i = 0; i < 200; ++i) name += rocket;
  auto r = post_json("/products", name_body(name, "1"));
  ASSERT_EQ(r.status, 201) << r;
  EXPECT_EQ(r.str("name"), name);
  // ...201 are not.
  EXPECT_TRUE(has_field_error(post_json("/products", name_body(name + rocket, "1")), "name"));
}

TEST(Products, AnyValidNameCanBeUsedAsTheFilter) {
  // The name may have 200 characters; searching for the whole of it must work too, also
  // when its characters take several bytes each.
  auto sfx = unique_suffix();
  std::string name;
  for (int i = 0; i < 190; ++i) name += "\xE6\x97\xA5";  // 190 x U+65E5
  name += sfx;                                             // 200 characters, 580 bytes
  auto created = post_json("/products", name_body(name, "1"));
  ASSERT_EQ(created.status, 201) << created;
  auto r = get("/products?q=" + url_encode(name));
  ASSERT_EQ(r.status, 200) << "a 200-character filter was refused\n" << r;
  EXPECT_EQ(r.at("total"), json::value(1)) << r;
}

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
  // Either refused, or accepted with the server's own id and time: never the client's.
  if (r.status == 201) {
    EXPECT_NE(r.str("created_at"), "2000-01-01T00:00:00Z");
    EXPECT_NE(r.id(), 1);
  } else {
    EXPECT_TRUE(is_problem(r, 400));
    EXPECT_EQ(product_total(name), 0);
  }
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
      {R"({"name":42})", "name"},
      {R"({"description":7})", "description"},
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
    EXPECT_TRUE(p.status == 400 || p.status == 200) << body << "\n" << p;
    if (p.status == 400) {
      EXPECT_TRUE(is_problem(p, 400));
    }
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

TEST(Products, NeverA500ForHostileInput) {
  auto sfx = unique_suffix();
  std::vector<std::string> bodies = {
      "{\"name\":\"" + std::string(5000, 'a') + sfx + "\",\"price\":1}",
      "{\"name\":\"e2e-" + sfx + "\",\"price\":1,\"description\":\"" + std::string(100000, 'd') + "\"}",
      "{\"name\":\"e2e-" + sfx + "\",\"price\":1,\"name\":\"dup\"}",
      "{\"name\":\"e2e-" + sfx + "\",\"price\":-0}",
      "{\"name\":\"e2e-" + sfx + "\",\"price\":1E2}",
      "{\"name\":\"e2e-\\u0001\\u001f-" + sfx + "\",\"price\":1}",
  };
  for (const auto& b : bodies) {
    auto r = post_json("/products", b);
    EXPECT_LT(r.status, 500) << b.substr(0, 200) << "\n" << r;
    if (r.status >= 400) {
      EXPECT_TRUE(is_problem(r, r.status)) << b.substr(0, 200);
    }
    if (r.status == 201) {
      auto g = get(product_path(r.id()));
      EXPECT_TRUE(same_product(g, r));
    }
  }
  for (const std::string& q : {std::string(300, 'q'), std::string("%00"), std::string("\\"), std::string("%ZZ")}) {
    auto r = get("/products?q=" + q);
    EXPECT_LT(r.status, 500) << q.substr(0, 50) << "\n" << r;
  }
}

}  // namespace
}  // namespace e2e

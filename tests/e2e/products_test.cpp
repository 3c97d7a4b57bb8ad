// DESIGN §2–§3, product service, through the gateway.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <vector>
#include <thread>

#include "sales_test/env.hpp"
#include "support/api.hpp"
#include "support/products.hpp"

namespace e2e {
namespace {

namespace json = boost::json;
using sales_test::unique_suffix;

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

}  // namespace
}  // namespace e2e

// Every list's query through the gateway: a parameter the list does not take is a 400 naming
// it (a misspelt filter must not answer with every row), and a name sent percent-encoded is
// the name it spells.
#include <gtest/gtest.h>

#include <algorithm>

#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

constexpr const char* kLists[] = {"/products", "/customers", "/orders", "/payments", "/shipping", "/inventory/stock"};

TEST(ListQueries, AParameterTheListDoesNotTakeIs400NamingIt) {
  for (const char* list : kLists) {
    auto r = get(std::string(list) + "?limit=1&custmer_id=7");
    EXPECT_TRUE(has_field_error(r, "custmer_id")) << list << "\n" << r;
    EXPECT_NE(r.body.find("limit, offset"), std::string::npos) << "the problem says what the list takes\n" << r;
  }
  EXPECT_TRUE(has_field_error(get("/orders?status=PAID&page=2"), "page"));
}

TEST(ListQueries, EmptyPairsAndTheListsOwnParametersPass) {
  for (const char* list : kLists) {
    auto r = get(std::string(list) + "?limit=1&&offset=0&");
    EXPECT_EQ(r.status, 200) << list << "\n" << r;
  }
}

// DESIGN §2: every list pages the same way: limit 1..500 (default 50), offset >= 0, and
// answers {items, total, limit, offset}.
TEST(ListQueries, EveryListPagesTheContractsWay) {
  const Headers fresh_total = {{"Cache-Control", "no-cache"}};  // counted now, not a recent count
  for (const char* list : kLists) {
    const std::string path(list);
    for (const char* bad : {"0", "501", "abc", "-1", "", "1.5"}) {
      EXPECT_TRUE(has_field_error(get(path + "?limit=" + bad), "limit")) << path << "?limit=" << bad;
    }
    for (const char* bad : {"-1", "abc", ""}) {
      EXPECT_TRUE(has_field_error(get(path + "?offset=" + bad), "offset")) << path << "?offset=" << bad;
    }
    auto page = get(path, fresh_total);
    ASSERT_EQ(page.status, 200) << path << "\n" << page;
    EXPECT_EQ(page.at("limit"), boost::json::value(50)) << path << ": the default limit";
    EXPECT_EQ(page.at("offset"), boost::json::value(0)) << path;
    ASSERT_TRUE(page.at("items").is_array()) << path << "\n" << page;
    ASSERT_TRUE(page.at("total").is_int64()) << path << "\n" << page;
    const auto total = page.at("total").as_int64();
    EXPECT_EQ(static_cast<std::int64_t>(page.at("items").as_array().size()), std::min<std::int64_t>(total, 50)) << path;

    auto second = get(path + "?limit=1&offset=1", fresh_total);
    ASSERT_EQ(second.status, 200) << path << "\n" << second;
    EXPECT_EQ(second.at("limit"), boost::json::value(1)) << path;
    EXPECT_EQ(second.at("offset"), boost::json::value(1)) << path;
    ASSERT_TRUE(second.at("total").is_int64()) << path << "\n" << second;
    EXPECT_EQ(static_cast<std::int64_t>(second.at("items").as_array().size()), second.at("total").as_int64() > 1 ? 1 : 0)
        << path;
  }
}

TEST(ListQueries, APercentEncodedNameIsTheNameItSpells) {
  auto customer = post_json("/customers", std::string(R"({"name":"Query keys"})"));
  ASSERT_EQ(customer.status, 201) << customer;
  auto r = get("/orders?customer%5Fid=" + std::to_string(customer.id()));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.at("total"), boost::json::value(0)) << "filtered by the new customer: no orders yet";
  EXPECT_TRUE(has_field_error(get("/orders?customer%5Fid=0"), "customer_id")) << "decoded, then validated";
}

}  // namespace
}  // namespace e2e

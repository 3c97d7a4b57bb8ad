// A list's total (README, "The API"): exact on the last page, recent on the others, counted
// now on request. Products; every other list shares the code (sales/pg/total_cache.hpp).
#include <gtest/gtest.h>

#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

using sales_test::unique_suffix;

const Headers kNoCache = {{"Cache-Control", "no-cache"}};

std::string page_of(const std::string& sfx, int limit, int offset) {
  return "/products?q=" + url_encode(sfx) + "&limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
}

void create_products(const std::string& sfx, int from, int to) {
  for (int i = from; i < to; ++i) ASSERT_EQ(create_product("e2e-total-" + sfx + "-" + std::to_string(i), "1").status, 201);
}

TEST(ListTotals, TheLastPageCountsItsOwnItems) {
  auto sfx = unique_suffix();
  create_products(sfx, 0, 3);
  auto full = get(page_of(sfx, 2, 0));  // counted, and kept for a second
  ASSERT_EQ(full.status, 200) << full;
  EXPECT_EQ(full.at("total"), boost::json::value(3)) << full;
  create_products(sfx, 3, 4);
  // Page 2 of 2 holds 2 items, fewer than the limit of 3: it ends the list, whatever was kept.
  auto last = get(page_of(sfx, 3, 2));
  ASSERT_EQ(last.status, 200) << last;
  EXPECT_EQ(last.at("items").as_array().size(), 2u) << last;
  EXPECT_EQ(last.at("total"), boost::json::value(4)) << last;
}

TEST(ListTotals, NoCacheCountsNow) {
  auto sfx = unique_suffix();
  create_products(sfx, 0, 3);
  ASSERT_EQ(get(page_of(sfx, 2, 0)).at("total"), boost::json::value(3));  // kept for a second
  create_products(sfx, 3, 4);
  auto now = get(page_of(sfx, 2, 0), kNoCache);
  ASSERT_EQ(now.status, 200) << now;
  EXPECT_EQ(now.at("total"), boost::json::value(4)) << now;
  // The fresh count is what is kept from then on.
  EXPECT_EQ(get(page_of(sfx, 2, 0)).at("total"), boost::json::value(4));
}

TEST(ListTotals, ATotalIsNeverBelowWhatThePageShows) {
  auto sfx = unique_suffix();
  create_products(sfx, 0, 3);
  ASSERT_EQ(get(page_of(sfx, 2, 0)).at("total"), boost::json::value(3));  // kept for a second
  create_products(sfx, 3, 6);
  // Items 3 and 4 of 6 fill the page: a kept 3 would contradict it, so it is counted again.
  auto r = get(page_of(sfx, 2, 2));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.at("items").as_array().size(), 2u) << r;
  EXPECT_EQ(r.at("total"), boost::json::value(6)) << r;
}

}  // namespace
}  // namespace e2e

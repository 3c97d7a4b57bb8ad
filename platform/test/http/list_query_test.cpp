#include "sales/http/list_query.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "sales/text/utf8.hpp"

namespace sales::http {
namespace {

Request list_get(std::string target) {
  Request r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
}

// The page of a list that reads `read`'s filters from `target`.
Page page_of(const std::string& target, const std::function<void(ListQuery&)>& read = {}) {
  auto req = list_get(target);
  ListQuery query(req);
  if (read) read(query);
  return query.page();
}

// The 400 that page() answers (status 0 and no errors when it answers none).
Problem refusal_of(const std::string& target, const std::function<void(ListQuery&)>& read = {}) {
  try {
    (void)page_of(target, read);
  } catch (const ProblemError& e) {
    return e.problem();
  }
  Problem none;
  none.status = 0;
  return none;
}

const auto status_and_customer = [](ListQuery& q) {
  (void)q.parsed("status", [](std::string_view s) { return s == "PAID" ? std::optional<int>(1) : std::nullopt; },
                 "must be PAID");
  (void)q.id("customer_id");
};

TEST(ListQueryPage, ValidatesBounds) {
  EXPECT_EQ(page_of("/x").limit, 50);
  EXPECT_EQ(page_of("/x?limit=500&offset=3").offset, 3);
  for (const char* bad : {"/x?limit=0", "/x?limit=501", "/x?limit=abc", "/x?offset=-1", "/x?limit="}) {
    EXPECT_EQ(refusal_of(bad).status, 400) << bad;
    EXPECT_EQ(refusal_of(bad).detail, "Invalid pagination parameters.") << bad;
  }
}

TEST(ListQueryPage, RefusesAParameterNoFilterReadNamingIt) {
  EXPECT_NO_THROW(page_of("/x?status=PAID&limit=5&&offset=0&", status_and_customer));
  EXPECT_NO_THROW(page_of("/x?customer%5Fid=7&%6Cimit=2", status_and_customer)) << "names as the client meant them";
  for (const char* bad : {"/x?custmer_id=7", "/x?limit=5&page=2", "/x?status=PAID&x", "/x?%ZZ=1", "/x?=5"}) {
    auto p = refusal_of(bad, status_and_customer);
    EXPECT_EQ(p.status, 400) << bad;
    ASSERT_EQ(p.errors.size(), 1u) << bad;
    EXPECT_EQ(p.errors[0].message, kNotAListParameter);
    EXPECT_NE(p.detail.find("limit, offset, status, customer_id"), std::string::npos) << p.detail;
  }
  auto nameless = refusal_of("/x?=5", status_and_customer);
  EXPECT_EQ(nameless.errors[0].field, "") << "a value without a name is no filter either";
  EXPECT_NE(nameless.detail.find("a value without a name"), std::string::npos) << nameless.detail;
  auto p = refusal_of("/x?a=1&b=2&a=3");
  ASSERT_EQ(p.errors.size(), 2u) << "each unknown name once";
  EXPECT_EQ(p.errors[0].field, "a");
  EXPECT_EQ(p.errors[1].field, "b");
  EXPECT_EQ(refusal_of("/x?custmer_id=7&limit=0&status=LOST", status_and_customer).errors[0].field, "custmer_id")
      << "an unknown parameter first, then the page, then the filters";
  // A bad page and bad filters are named together (a probe got only `limit` for
  // ?limit=0&status=bogus), the page first.
  auto both = refusal_of("/x?limit=0&status=LOST&customer_id=0", status_and_customer);
  ASSERT_EQ(both.errors.size(), 3u);
  EXPECT_EQ(both.errors[0].field, "limit");
  EXPECT_EQ(both.errors[1].field, "status");
  EXPECT_EQ(both.errors[2].field, "customer_id");
  EXPECT_EQ(both.detail, "Invalid pagination parameters and filters.");
  // A filter given twice (or not UTF-8) comes after the unknown parameter and the page, and
  // before the other filters, as when the filters were read after the page.
  EXPECT_EQ(refusal_of("/x?custmer_id=1&status=A&status=B", status_and_customer).errors[0].field, "custmer_id");
  EXPECT_EQ(refusal_of("/x?status=%FF&limit=0", status_and_customer).errors[0].field, "limit");
  auto twice = refusal_of("/x?status=A&status=B&customer_id=0", status_and_customer);
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(twice.detail, "Invalid filter.") << "the repeated parameter, alone";
}

TEST(ListQueryPage, NamesAtMostTenUnknownParametersInValidUtf8) {
  std::string many = "/x?";
  for (int i = 0; i < 500; ++i) many += "k" + std::to_string(i) + "=1&";
  EXPECT_EQ(refusal_of(many).errors.size(), 10u);
  auto p = refusal_of("/x?\xFF\x01=1&" + std::string(300, 'a') + "=1");
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].field, "%FF%01") << "raw bytes quoted as escapes, never copied into JSON";
  EXPECT_EQ(text::utf8_length(p.errors[1].field), 65u) << "64 characters and an ellipsis";
  // A value without a name (?=5: a client whose filter name came out empty) is refused like
  // a misspelt one, not read as an unfiltered list.
  EXPECT_EQ(refusal_of("/x?=5&limit=2").errors.at(0).field, "");
}

// The directives themselves: cache_control_test.cpp.
TEST(ListQueryPage, AsksForAFreshTotalOnlyWithNoCache) {
  EXPECT_FALSE(page_of("/x").fresh_total);
  auto with = [](std::vector<std::pair<std::string, std::string>> headers) {
    auto req = list_get("/x");
    for (auto& [name, value] : headers) req.headers.add(std::move(name), std::move(value));
    return ListQuery(req).page().fresh_total;
  };
  EXPECT_TRUE(with({{"Cache-Control", "no-cache"}}));
  EXPECT_TRUE(with({{"Pragma", "no-cache"}}));
  EXPECT_FALSE(with({{"Cache-Control", "max-age=60"}}));
  EXPECT_FALSE(with({{"Cache-Control", "max-age=60"}, {"Pragma", "no-cache"}}))
      << "Pragma counts only without Cache-Control (RFC 9111 §5.4)";
}

TEST(ListQueryFilters, IdIsAbsentValidOrOneFieldError) {
  auto req = list_get("/x?order_id=7");
  ListQuery q(req);
  EXPECT_EQ(q.id("order_id"), 7);
  EXPECT_EQ(q.id("customer_id"), std::nullopt);
  EXPECT_NO_THROW((void)q.page());
  for (const char* bad : {"/x?order_id=0", "/x?order_id=-3", "/x?order_id=7a", "/x?order_id=", "/x?order_id=+7",
                          "/x?order_id=99999999999999999999"}) {
    std::optional<std::int64_t> read = 1;
    auto p = refusal_of(bad, [&](ListQuery& q) { read = q.id("order_id"); });
    EXPECT_EQ(read, std::nullopt) << bad;
    EXPECT_EQ(p.detail, "Invalid filter.") << bad;
    ASSERT_EQ(p.errors.size(), 1u) << bad;
    EXPECT_EQ(p.errors[0].field, "order_id");
    EXPECT_EQ(p.errors[0].message, "must be a positive integer");
  }
}

TEST(ListQueryFilters, IdsAreAbsentSortedDistinctOrOneFieldError) {
  auto ids_of = [](const std::string& target) {
    auto req = list_get(target);
    ListQuery q(req);
    auto ids = q.ids("ids", 3);
    (void)q.page();
    return ids;
  };
  EXPECT_EQ(ids_of("/x"), std::nullopt);
  EXPECT_EQ(ids_of("/x?ids=9,2,9,5"), (std::vector<std::int64_t>{2, 5, 9}));
  EXPECT_EQ(ids_of("/x?ids=4"), (std::vector<std::int64_t>{4}));
  EXPECT_EQ(ids_of("/x?ids=1%2C2"), (std::vector<std::int64_t>{1, 2}));
  for (const char* bad : {"/x?ids=", "/x?ids=1,", "/x?ids=,1", "/x?ids=1,,2", "/x?ids=0", "/x?ids=1,-2", "/x?ids=1,a",
                          "/x?ids=1%202", "/x?ids=1,2,3,4", "/x?ids=99999999999999999999"}) {
    auto p = refusal_of(bad, [](ListQuery& q) { EXPECT_EQ(q.ids("ids", 3), std::nullopt); });
    ASSERT_EQ(p.errors.size(), 1u) << bad;
    EXPECT_EQ(p.errors[0].field, "ids");
    EXPECT_EQ(p.errors[0].message, "must be 1 to 3 positive integers separated by commas");
  }
}

TEST(ListQueryFilters, TextIsAbsentWithinItsLengthOrOneFieldError) {
  auto req = list_get("/x?q=%E2%98%83ab");
  ListQuery q(req);
  EXPECT_EQ(q.text("q", 3), "\xE2\x98\x83" "ab") << "characters, not bytes";
  EXPECT_EQ(q.text("email", 3), std::nullopt);
  EXPECT_NO_THROW((void)q.page());
  auto p = refusal_of("/x?q=abcd", [](ListQuery& q) { EXPECT_EQ(q.text("q", 3), std::nullopt); });
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].field, "q");
  EXPECT_EQ(p.errors[0].message, "must be at most 3 characters");
}

// An empty search is a search for anything; an empty value for a filter that matches one is
// the client's missing value, a 400 (it matched nobody, silently).
TEST(ListQueryFilters, AnEmptyTextIsAnySearchOrRefusedWhereAValueIsMatched) {
  auto req = list_get("/x?q=&email=");
  ListQuery q(req);
  EXPECT_EQ(q.text("q", 3), "");
  EXPECT_EQ(q.text("email", 3, ListQuery::Empty::Refused), std::nullopt);
  try {
    (void)q.page();
    ADD_FAILURE() << "an empty email was taken";
  } catch (const ProblemError& e) {
    ASSERT_EQ(e.problem().errors.size(), 1u);
    EXPECT_EQ(e.problem().errors[0].field, "email");
    EXPECT_EQ(e.problem().errors[0].message, "must not be empty");
  }
}

TEST(ListQueryFilters, EveryBadFilterIsNamedInOne400) {
  auto p = refusal_of("/x?q=abcd&ids=0&status=LOST", [](ListQuery& q) {
    (void)q.text("q", 3);
    (void)q.ids("ids", 3);
    (void)q.parsed("status", [](std::string_view) { return std::optional<int>(); }, "must be PAID");
  });
  EXPECT_EQ(p.status, 400);
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_EQ(p.errors[0].field, "q");
  EXPECT_EQ(p.errors[1].field, "ids");
  EXPECT_EQ(p.errors[2].field, "status");
  EXPECT_EQ(p.errors[2].message, "must be PAID");
}

}  // namespace
}  // namespace sales::http

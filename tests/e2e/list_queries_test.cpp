// Every list's query through the gateway: a parameter the list does not take is a 400 naming
// it (a misspelt filter must not answer with every row), and a name sent percent-encoded is
// the name it spells.
#include <gtest/gtest.h>

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

#include <gtest/gtest.h>

#include "api/product_handlers.hpp"
#include "sales/problem/problem.hpp"
#include "sales_test/http.hpp"

namespace product {
namespace {

int status_of(std::string_view body, bool patch = false) {
  return sales_test::problem_of([&] {
           if (patch) decode_patch(body);
           else decode_new_product(body);
         }).status;
}

TEST(DecodeProduct, AcceptsAValidProduct) {
  auto p = decode_new_product(R"({"name":"Lamp","price":19.99,"description":"Bright","stock":3})");
  EXPECT_EQ(p.name, "Lamp");
  EXPECT_EQ(p.price_cents, 1999);
  EXPECT_EQ(p.stock, 3);
  EXPECT_EQ(decode_new_product(R"({"name":"Lamp","price":0})").stock, 0);
}

TEST(DecodeProduct, RejectsBadFields) {
  for (const char* bad : {R"({"price":1})", R"({"name":"x"})", R"({"name":"x","price":-1})",
                          R"({"name":"x","price":1.234})", R"({"name":"x","price":"1.00"})",
                          R"({"name":"x","price":1,"stock":-1})", R"({"name":"x","price":1,"stock":1.5})",
                          R"({"name":123,"price":1})", R"({"name":"  ","price":1})", R"({"name":"x","price":1,"colour":"red"})"}) {
    EXPECT_EQ(status_of(bad), 400) << bad;
  }
}

TEST(DecodePatch, TakesAnyOfNameDescriptionPrice) {
  auto p = decode_patch(R"({"price":5})");
  EXPECT_EQ(p.price_cents, 500);
  EXPECT_FALSE(p.name);
  EXPECT_TRUE(decode_patch(R"({"description":null})").clear_description);
  EXPECT_EQ(status_of(R"({})", true), 400);
  EXPECT_EQ(status_of(R"({"stock":5})", true), 400);
  EXPECT_EQ(status_of(R"({"name":null})", true), 400);
}

TEST(DecodePatch, NamesEachFieldTheServerSets) {
  for (const char* fixed : {"id", "created_at", "updated_at"}) {
    auto problem = sales_test::problem_of([&] { decode_patch(std::string(R"({"price":1,")") + fixed + R"(":"x"})"); });
    EXPECT_EQ(problem.status, 400) << fixed;
    ASSERT_EQ(problem.errors.size(), 1u) << fixed;
    EXPECT_EQ(problem.errors[0].field, fixed);
    EXPECT_EQ(problem.errors[0].message, "is set by the server and cannot be sent");
    // A create says the same (it said "is not a known field").
    auto on_create = sales_test::problem_of(
        [&] { decode_new_product(std::string(R"({"name":"a","price":1,")") + fixed + R"(":"x"})"); });
    ASSERT_EQ(on_create.errors.size(), 1u) << fixed;
    EXPECT_EQ(on_create.errors[0].message, "is set by the server and cannot be sent");
  }
}

TEST(Render, PrintsMoneyWithTwoDecimals) {
  Product p{7, "Lamp", std::nullopt, 1234567899, 2, "t0", "t1"};
  EXPECT_EQ(render(p), R"({"id":7,"name":"Lamp","description":null,"price":12345678.99,"stock":2,"created_at":"t0","updated_at":"t1"})");
}

}  // namespace
}  // namespace product

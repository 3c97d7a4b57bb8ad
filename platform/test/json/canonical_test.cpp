#include "sales/json/canonical.hpp"

#include <gtest/gtest.h>

namespace sales::json {
namespace {

TEST(Canonical, OneSpellingForOneValue) {
  const std::string expected = R"({"amount":19.99,"items":[{"product_id":7,"quantity":2}],"note":"é\"x"})";
  for (const char* text : {R"({"note":"é\"x","items":[{"quantity":2,"product_id":7}],"amount":19.99})",
                           R"( { "amount" : 19.990 , "items" : [ { "product_id" : 7.0 , "quantity" : 2e0 } ] , "note" : "\u00e9\"x" } )",
                           "{\"amount\":1999e-2,\n\"items\":[{\"product_id\":7,\"quantity\":2}],\"note\":\"é\\\"x\"}"}) {
    EXPECT_EQ(canonical(text), expected) << text;
  }
}

TEST(Canonical, DifferentValuesStayDifferent) {
  EXPECT_NE(canonical(R"({"a":[1,2]})"), canonical(R"({"a":[2,1]})")) << "an array's order is its meaning";
  EXPECT_NE(canonical(R"({"a":1})"), canonical(R"({"a":"1"})"));
  EXPECT_NE(canonical(R"({"a":19.99})"), canonical(R"({"a":19.98})"));
  EXPECT_NE(canonical(R"({"a":null})"), canonical(R"({})"));
  EXPECT_EQ(canonical(R"({"a":true,"b":null,"c":-0.5,"d":18446744073709551615})"),
            R"({"a":true,"b":null,"c":-0.5,"d":18446744073709551615})");
}

TEST(Canonical, NotJsonIsNotCanonical) {
  EXPECT_FALSE(canonical(""));
  EXPECT_FALSE(canonical("{"));
  EXPECT_FALSE(canonical("{} {}"));
  EXPECT_FALSE(canonical(std::string(20, '[') + std::string(20, ']'))) << "deeper than any body we take";
  EXPECT_EQ(canonical("[]"), "[]");
}

}  // namespace
}  // namespace sales::json

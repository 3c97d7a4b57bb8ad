#include <gtest/gtest.h>

#include "api/customer_handlers.hpp"
#include "domain/customer.hpp"
#include "sales/problem/problem.hpp"

namespace customer {
namespace {

TEST(Email, AcceptsOrdinaryAddresses) {
  for (const char* ok : {"ann@example.com", "a.b+tag@mail.example.org", "x@y.co"}) EXPECT_TRUE(valid_email(ok)) << ok;
}

TEST(Email, RejectsMalformedAddresses) {
  for (const char* bad : {"", "ann", "ann@", "@example.com", "ann@example", "a b@example.com", "ann@@example.com",
                          "ann@.example.com", "ann@example.com.", ".ann@example.com", "ann@exa..mple.com"}) {
    EXPECT_FALSE(valid_email(bad)) << bad;
  }
}

TEST(DecodeCustomer, RequiresNameAndValidatesEmail) {
  EXPECT_THROW(decode_new_customer(R"({"email":"ann@example.com"})"), sales::ProblemError);
  EXPECT_THROW(decode_new_customer(R"({"name":"Ann","email":"nope"})"), sales::ProblemError);
  auto c = decode_new_customer(R"({"name":"Ann","address":"1 Main St","email":"ann@example.com"})");
  EXPECT_EQ(c.name, "Ann");
  EXPECT_EQ(c.address, "1 Main St");
  EXPECT_FALSE(c.contact);
}

TEST(DecodePatch, NullClearsOptionalFieldsButNotName) {
  auto p = decode_patch(R"({"address":null})");
  EXPECT_TRUE(p.clear_address);
  EXPECT_FALSE(p.name);
  EXPECT_THROW(decode_patch(R"({"name":null})"), sales::ProblemError);
  EXPECT_THROW(decode_patch(R"({})"), sales::ProblemError);
}

}  // namespace
}  // namespace customer

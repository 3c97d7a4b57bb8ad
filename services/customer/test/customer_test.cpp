#include <gtest/gtest.h>

#include "api/customer_handlers.hpp"
#include "domain/customer.hpp"
#include "sales/problem/problem.hpp"
#include "sales_test/http.hpp"

namespace customer {
namespace {

TEST(Email, AcceptsOrdinaryAddresses) {
  for (const char* ok : {"ann@example.com", "a.b+tag@mail.example.org", "x@y.co", "j\xC3\xB6rg@b\xC3\xBC" "cher.de"}) {
    EXPECT_TRUE(valid_email(ok)) << ok;
  }
}

TEST(Email, RejectsMalformedAddresses) {
  for (const char* bad : {"", "ann", "ann@", "@example.com", "ann@example", "a b@example.com", "ann@@example.com",
                          "ann@.example.com", "ann@example.com.", ".ann@example.com", "ann@exa..mple.com",
                          // the same as ann@example.com to the eye: U+200B, U+00AD, U+FEFF, C1 U+0085
                          "ann@example.com\xE2\x80\x8B", "ann@exam\xC2\xADple.com", "\xEF\xBB\xBF" "ann@example.com",
                          "ann\xC2\x85@example.com"}) {
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

// The order service cannot ship to a blank address, so one is refused where it is given, not
// at the first order; null still removes an address.
TEST(DecodeCustomer, RefusesABlankAddress) {
  for (const char* blank : {R"("")", R"("   ")", R"("\u00a0\u200b")"}) {
    const std::string address = std::string(R"("address":)") + blank;
    for (auto decode : {+[](const std::string& b) { decode_new_customer(b); }, +[](const std::string& b) { decode_patch(b); }}) {
      auto p = sales_test::problem_of([&] { decode(R"({"name":"Ann",)" + address + "}"); });
      EXPECT_EQ(p.status, 400) << address;
      ASSERT_EQ(p.errors.size(), 1u) << address;
      EXPECT_EQ(p.errors[0].field, "address");
      EXPECT_EQ(p.errors[0].message, "must not be empty");
    }
  }
}

}  // namespace
}  // namespace customer

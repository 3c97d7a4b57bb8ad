#include "sales/money/money.hpp"

#include <gtest/gtest.h>

namespace sales::money {
namespace {

TEST(Money, ParsesTwoDecimalsExactly) {
  EXPECT_EQ(cents_from_double(19.99), 1999);
  EXPECT_EQ(cents_from_double(0.1), 10);
  EXPECT_EQ(cents_from_double(12345678.99), 1234567899);
  EXPECT_EQ(cents_from_double(0), 0);
  EXPECT_EQ(cents_from_double(1e9), 100000000000);
}

TEST(Money, ReadsTheCentsOfValuesWhoseTimesOneHundredIsInexact) {
  // 0.29 * 100 is 28.999999999999996 and 4.35 * 100 is 434.99999999999994 in doubles: cents
  // truncated from them would be 28 and 434.
  EXPECT_EQ(cents_from_double(0.29), 29);
  EXPECT_EQ(cents_from_double(4.35), 435);
  EXPECT_EQ(cents_from_double(1.1), 110);
  EXPECT_EQ(cents_from_double(999999999.99), 99999999999);
  EXPECT_EQ(cents_from_double(-0.0), 0);
}

TEST(Money, RejectsMoreThanTwoDecimalsNegativeAndAbsurd) {
  EXPECT_FALSE(cents_from_double(19.999));
  EXPECT_FALSE(cents_from_double(0.001));
  EXPECT_FALSE(cents_from_double(0.00001));  // written with an exponent
  EXPECT_FALSE(cents_from_double(0.00009));
  EXPECT_FALSE(cents_from_double(-1));
  EXPECT_FALSE(cents_from_double(1e9 + 0.01));
  EXPECT_FALSE(cents_from_double(1e300));
  EXPECT_FALSE(cents_from_double(std::numeric_limits<double>::quiet_NaN()));
}

TEST(Money, FormatsWithTwoDecimals) {
  EXPECT_EQ(format(1999), "19.99");
  EXPECT_EQ(format(5), "0.05");
  EXPECT_EQ(format(100), "1.00");
  EXPECT_EQ(format(0), "0.00");
  EXPECT_EQ(format(1234567899), "12345678.99");
  EXPECT_EQ(format(-250), "-2.50");
}

TEST(Money, SumsExactly) {
  // 3 x 0.10 is 0.30 exactly, which binary floating point does not give.
  EXPECT_EQ(format(*times(*cents_from_double(0.10), 3)), "0.30");
  EXPECT_FALSE(times(kMaxCents, 1001));
  EXPECT_FALSE(times(-1, 2));
}

}  // namespace
}  // namespace sales::money

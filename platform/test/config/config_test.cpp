#include "sales/config/config.hpp"

#include <gtest/gtest.h>

namespace sales::config {
namespace {

TEST(Dotenv, ParsesCommentsQuotesAndExport) {
  auto v = parse_dotenv("# comment\nA=1\nexport B = two \nC=\"quoted # not comment\"\nD=x # trailing\n\nbad line\n");
  EXPECT_EQ(v["A"], "1");
  EXPECT_EQ(v["B"], "two");
  EXPECT_EQ(v["C"], "quoted # not comment");
  EXPECT_EQ(v["D"], "x");
  EXPECT_EQ(v.count("bad line"), 0u);
}

// A CRLF file, or a comment after a quoted value, no longer leaves the quotes in the value
// (a password that then fails to authenticate, with nothing to say why).
TEST(Dotenv, AQuotedValueEndsAtItsQuoteWhateverFollows) {
  auto v = parse_dotenv("P=\"s3cret\"\r\nQ='x y'  # prod\nR=\"a\"b\"\nS=plain\r\nT=\"open\n");
  EXPECT_EQ(v["P"], "s3cret");
  EXPECT_EQ(v["Q"], "x y");
  EXPECT_EQ(v["R"], "\"a\"b\"") << "text after the closing quote: not a quoted value";
  EXPECT_EQ(v["S"], "plain");
  EXPECT_EQ(v["T"], "\"open");
}

TEST(Env, ValidatesAndReportsEveryError) {
  Env env({{"PORT", "99999"}, {"N", "12x"}, {"B", "maybe"}, {"OK", "7"}});
  EXPECT_EQ(env.integer("OK", 1, 0, 10), 7);
  env.integer("PORT", 8080, 0, 65535);
  env.integer("N", 1, 0, 100);
  env.boolean("B", false);
  env.required("MISSING");
  try {
    env.finish();
    FAIL();
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    for (const char* name : {"PORT", "N", "B", "MISSING"}) EXPECT_NE(msg.find(name), std::string::npos) << name;
  }
}

TEST(Env, DefaultsWhenUnset) {
  Env env({});
  EXPECT_EQ(env.integer("X", 5, 0, 10), 5);
  EXPECT_EQ(env.str("S", "d"), "d");
  EXPECT_NO_THROW(env.finish());
}

}  // namespace
}  // namespace sales::config

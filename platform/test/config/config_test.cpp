#include "sales/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

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

// SALES_ENV_FILE for one test, restored after.
class EnvFileTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("SALES_ENV_FILE"); }
  static std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(getpid()))).string();
  }
};

TEST_F(EnvFileTest, ANamedFileIsRead) {
  const std::string path = temp_path("sales-env-read-");
  std::ofstream(path) << "SALES_TEST_FROM_FILE=42\n";
  setenv("SALES_ENV_FILE", path.c_str(), 1);
  Env env = Env::load("/nonexistent/.env");
  EXPECT_EQ(env.integer("SALES_TEST_FROM_FILE", 0, 0, 100), 42);
  EXPECT_NO_THROW(env.finish());
  std::filesystem::remove(path);
}

// A named file that cannot be read stops the start with a message naming it, instead of a
// service running on its defaults (the broker's guest user, no database password).
TEST_F(EnvFileTest, ANamedFileThatCannotBeReadIsAConfigurationError) {
  const std::string path = temp_path("sales-env-missing-");
  setenv("SALES_ENV_FILE", path.c_str(), 1);
  Env env = Env::load();
  try {
    env.finish();
    FAIL() << "an unreadable SALES_ENV_FILE was ignored";
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("SALES_ENV_FILE=" + path + " cannot be read"), std::string::npos) << msg;
  }
}

// The default .env is optional: without it the environment alone configures the service.
TEST_F(EnvFileTest, AMissingDefaultFileIsNoError) {
  Env env = Env::load("/nonexistent/.env");
  EXPECT_NO_THROW(env.finish());
}

}  // namespace
}  // namespace sales::config

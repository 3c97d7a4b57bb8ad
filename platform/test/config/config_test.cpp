#include "sales/config/config.hpp"
#include "sales/net/loopback.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

namespace sales::config {
namespace {

// What env.finish() reports as a ConfigError, or "" when it reports nothing.
std::string finish_error(Env& env) {
  try {
    env.finish();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

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

// Lines end at "\n"; the last needs none, and an empty file or blank lines give nothing.
TEST(Dotenv, TheLastLineNeedsNoNewline) {
  EXPECT_TRUE(parse_dotenv("").empty());
  EXPECT_TRUE(parse_dotenv("\n\n").empty());
  EXPECT_EQ(parse_dotenv("A=1"), (std::map<std::string, std::string>{{"A", "1"}}));
  EXPECT_EQ(parse_dotenv("A=1\r\nB=2"), (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(parse_dotenv("A=1\r\nB=2\r\n"), (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}}));
}

TEST(Env, ValidatesAndReportsEveryError) {
  Env env({{"PORT", "99999"}, {"N", "12x"}, {"B", "maybe"}, {"OK", "7"}});
  EXPECT_EQ(env.integer("OK", 1, 0, 10), 7);
  env.integer("PORT", 8080, 0, 65535);
  env.integer("N", 1, 0, 100);
  env.boolean("B", false);
  env.required("MISSING");
  const std::string msg = finish_error(env);
  ASSERT_FALSE(msg.empty());
  for (const char* name : {"PORT", "N", "B", "MISSING"}) EXPECT_NE(msg.find(name), std::string::npos) << name;
}

TEST(Env, DefaultsWhenUnset) {
  Env env({});
  EXPECT_EQ(env.integer("X", 5, 0, 10), 5);
  EXPECT_EQ(env.str("S", "d"), "d");
  EXPECT_NO_THROW(env.finish());
}

// A setting under a service's own prefix that nothing read is most likely misspelt: named,
// so the service can say so. Read ones, empty ones and other prefixes are not.
TEST(Env, NamesTheVariablesOfAPrefixThatNothingRead) {
  Env env({{"GATEWAY_TIMEOUT_MS", "300"}, {"GATEWAY_TIMOUT_MS", "300"}, {"GATEWAY_EMPTY", ""},
           {"GATEWAY_NUMBER", "7"}, {"DB_HOST", "db"}});
  env.millis("GATEWAY_TIMEOUT_MS", 5000, 10, 600'000);
  env.integer("GATEWAY_NUMBER_OTHER", 1, 0, 10);
  EXPECT_EQ(env.unread("GATEWAY_"), (std::vector<std::string>{"GATEWAY_NUMBER", "GATEWAY_TIMOUT_MS"}));
  env.integer("GATEWAY_NUMBER", 1, 0, 10);
  EXPECT_EQ(env.unread("GATEWAY_"), std::vector<std::string>{"GATEWAY_TIMOUT_MS"});
}

// Compose passes an unset shell variable as an empty one: every kind of setting takes its
// default then, text as numbers (DB_HOST= reached libpq's own default socket).
TEST(Env, EmptyIsUnset) {
  Env env({{"X", ""}, {"S", ""}, {"B", ""}, {"R", ""}});
  EXPECT_EQ(env.integer("X", 5, 0, 10), 5);
  EXPECT_EQ(env.str("S", "d"), "d");
  EXPECT_FALSE(env.get("S"));
  EXPECT_TRUE(env.boolean("B", true));
  env.required("R");
  EXPECT_NE(finish_error(env).find("R is required"), std::string::npos);
}

// Digits only, nothing around them; the message quotes the value (a blank shows) and gives
// the range, and a number too large for any range says so.
TEST(Env, ANumberIsDigitsOnlyAndItsErrorGivesTheRange) {
  for (const char* bad : {"100 ", " 100", "+100", "1e2", "0x10", "10.0", "ten"}) {
    Env env(std::map<std::string, std::string>{{"N", bad}});
    EXPECT_EQ(env.integer("N", 7, 0, 1000), 7) << bad;
    EXPECT_NE(finish_error(env).find("N='" + std::string(bad) + "' is not a whole number in [0, 1000]"), std::string::npos)
        << bad << ": " << finish_error(env);
  }
  Env huge(std::map<std::string, std::string>{{"N", "99999999999999999999"}, {"M", "1001"}, {"OK", "0100"}, {"NEG", "-5"}});
  huge.integer("N", 7, 0, 1000);
  huge.integer("M", 7, 0, 1000);
  EXPECT_EQ(huge.integer("OK", 7, 0, 1000), 100);
  EXPECT_EQ(huge.integer("NEG", 7, -10, 10), -5);
  const auto msg = finish_error(huge);
  EXPECT_NE(msg.find("N='99999999999999999999' is out of range [0, 1000]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("M='1001' is out of range [0, 1000]"), std::string::npos) << msg;
}

// A setting read by several parts is reported once.
TEST(Env, TheSameErrorIsReportedOnce) {
  Env env(std::map<std::string, std::string>{{"T", "x"}});
  env.integer("T", 1, 0, 10);
  env.integer("T", 1, 0, 10);
  const auto msg = finish_error(env);
  EXPECT_EQ(msg.find("T='x'"), msg.rfind("T='x'")) << msg;
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
  const std::string msg = finish_error(env);
  ASSERT_FALSE(msg.empty()) << "an unreadable SALES_ENV_FILE was ignored";
  EXPECT_NE(msg.find("SALES_ENV_FILE=" + path + " cannot be read"), std::string::npos) << msg;
}

// The file is read in chunks: a line across a chunk's end is whole.
TEST_F(EnvFileTest, AFileLongerThanOneReadIsReadWhole) {
  const std::string path = temp_path("sales-env-long-");
  std::ofstream(path) << "SALES_TEST_LONG=" << std::string(5000, 'x') << "\nSALES_TEST_LAST=7\n";
  setenv("SALES_ENV_FILE", path.c_str(), 1);
  Env env = Env::load("/nonexistent/.env");
  EXPECT_EQ(env.get("SALES_TEST_LONG"), std::string(5000, 'x'));
  EXPECT_EQ(env.integer("SALES_TEST_LAST", 0, 0, 100), 7);
  EXPECT_NO_THROW(env.finish());
  std::filesystem::remove(path);
}

// Compose's X= for an unset ${X} is no setting: the file's value stands, and an empty
// SALES_ENV_FILE names no file.
TEST_F(EnvFileTest, AnEmptyVariableInTheEnvironmentLeavesTheFilesValue) {
  const std::string path = temp_path("sales-env-empty-");
  std::ofstream(path) << "SALES_TEST_EMPTY_IN_ENV=42\n";
  setenv("SALES_ENV_FILE", path.c_str(), 1);
  setenv("SALES_TEST_EMPTY_IN_ENV", "", 1);
  Env env = Env::load("/nonexistent/.env");
  unsetenv("SALES_TEST_EMPTY_IN_ENV");
  EXPECT_EQ(env.integer("SALES_TEST_EMPTY_IN_ENV", 0, 0, 100), 42);
  EXPECT_NO_THROW(env.finish());
  std::filesystem::remove(path);
  setenv("SALES_ENV_FILE", "", 1);
  EXPECT_NO_THROW(Env::load("/nonexistent/.env").finish()) << "an empty SALES_ENV_FILE named a file";
}

// A settings file of more than 1 MiB is a mistake (a wrong path, /dev/zero): not read.
TEST_F(EnvFileTest, AFileOverOneMebibyteIsAConfigurationError) {
  const std::string path = temp_path("sales-env-huge-");
  std::ofstream(path) << "A=" << std::string(1 << 20, 'x') << "\n";
  setenv("SALES_ENV_FILE", path.c_str(), 1);
  Env env = Env::load();
  const std::string msg = finish_error(env);
  ASSERT_FALSE(msg.empty()) << "a 1 MiB SALES_ENV_FILE was read";
  EXPECT_NE(msg.find("cannot be read: larger than 1 MiB"), std::string::npos) << msg;
  std::filesystem::remove(path);
}

// A default .env that is there but cannot be read (here: a directory) is reported too; only
// one that does not exist is no error.
TEST_F(EnvFileTest, ADefaultFileThatCannotBeReadIsAConfigurationError) {
  const std::string dir = temp_path("sales-env-dir-");
  std::filesystem::create_directory(dir);
  Env env = Env::load(dir);
  const std::string msg = finish_error(env);
  ASSERT_FALSE(msg.empty()) << "an unreadable default .env was ignored";
  EXPECT_NE(msg.find(dir + " cannot be read"), std::string::npos) << msg;
  std::filesystem::remove(dir);
}

// The default .env is optional: without it the environment alone configures the service.
TEST_F(EnvFileTest, AMissingDefaultFileIsNoError) {
  Env env = Env::load("/nonexistent/.env");
  EXPECT_NO_THROW(env.finish());
}

// BIND_HOST: an address the listener takes as it is, never a name to resolve.
TEST(IpAddress, IsAnAddressLiteralNotAName) {
  for (const char* ok : {"127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1%eth0", "10.1.2.3"}) {
    EXPECT_TRUE(sales::net::is_ip_address(ok)) << ok;
  }
  for (const char* bad : {"", "localhost", "999.1.1.1", "127.0.0.1 ", " ::1", "%eth0", "fe80::1%", "10.1.2", "[::1]"}) {
    EXPECT_FALSE(sales::net::is_ip_address(bad)) << bad;
  }
}

}  // namespace
}  // namespace sales::config

// LOG_LEVEL: every level spdlog has, in any case; anything else is refused at start (App
// names it) instead of spdlog's silent "off".
#include <gtest/gtest.h>

#include "sales/log/log.hpp"

namespace sales::log {
namespace {

TEST(LogLevel, KnowsEveryLevelInAnyCase) {
  for (const char* name : {"trace", "debug", "info", "warn", "warning", "error", "critical", "off", "INFO", "Warn",
                           "DEBUG", "Error"}) {
    EXPECT_TRUE(is_level(name)) << name;
  }
}

TEST(LogLevel, RefusesWhatIsNoLevel) {
  for (const char* name : {"", "inf", "verbose", "information", "errors", "0", " info"}) {
    EXPECT_FALSE(is_level(name)) << '"' << name << '"';
  }
}

TEST(LogLevel, InitTakesTheLevelInAnyCase) {
  init("level-test", "ERROR");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::err);
  init("level-test-2", "Debug");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
  init("level-test-3", "info");  // as the other tests of this binary found it
}

}  // namespace
}  // namespace sales::log

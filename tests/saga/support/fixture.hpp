#pragma once
// The base of every saga test: a fresh customer, and the invariant checker at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "sales_test/env.hpp"
#include "support/api.hpp"
#include "support/invariants.hpp"
#include "support/system.hpp"

namespace saga {

// How long the end-of-test invariant check waits for the system to settle
// (SAGA_SETTLE_SECONDS, default 30).
inline std::chrono::milliseconds settle_time() {
  long s = sales_test::env_long("SAGA_SETTLE_SECONDS", 30);
  return std::chrono::seconds(s > 0 ? s : 30);
}

class SagaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    before_ = current_violations();
    customer_ = create_customer();
    ASSERT_GT(customer_, 0) << "could not create a customer through the gateway";
  }
  void TearDown() override {
    if (check_invariants_) {
      EXPECT_TRUE(invariants_hold(settle_time(), &before_)) << "after " << test_name();
    }
  }
  static std::string test_name() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return info ? std::string(info->test_suite_name()) + "." + info->name() : std::string("?");
  }

  std::int64_t customer_ = 0;
  bool check_invariants_ = true;
  std::set<std::string> before_;  // violations already there when the test began
};

// The base of the crash and outage tests: the whole system up before, and again after,
// whatever the test killed.
class SystemUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problems = ensure_system_up(std::chrono::seconds(90));
    ASSERT_TRUE(problems.empty()) << "the system is not up before the test: " << problems;
  }
  void TearDown() override {
    // Whatever happened, leave every component running and ready.
    std::string problems = ensure_system_up(std::chrono::seconds(120));
    EXPECT_TRUE(problems.empty()) << "the system did not come back up after the test: " << problems;
  }
};

}  // namespace saga

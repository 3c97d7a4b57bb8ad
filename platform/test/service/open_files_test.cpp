#include "sales/service/open_files.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace {

using sales::service::connections_within;
using sales::service::raise_open_files_limit;

TEST(OpenFiles, ConnectionsKeepHalfTheDescriptorsForTheRest) {
  EXPECT_EQ(connections_within(4096, 1024), 512u) << "a Debian login shell's soft limit, had it not been raised";
  EXPECT_EQ(connections_within(4096, 1'048'576), 4096u) << "the configured cap when the descriptors allow it";
  EXPECT_EQ(connections_within(4096, 8192), 4096u);
  EXPECT_EQ(connections_within(4096, 1), 1u) << "never none";
  EXPECT_EQ(connections_within(4096, 0), 4096u) << "a limit that could not be read leaves the cap as configured";
  EXPECT_EQ(connections_within(0, 1024), 1u) << "never none, whatever the caller asks";
}

TEST(OpenFiles, TheSoftLimitIsRaisedToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  if (before.rlim_max <= 256) GTEST_SKIP() << "a hard limit of " << before.rlim_max << " leaves nothing to raise";
  struct Restore {
    rlimit limit;
    ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }  // also when a check below fails
  } restore{before};
  rlimit lowered = before;
  lowered.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  const auto now = raise_open_files_limit();
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  EXPECT_EQ(now, after.rlim_cur == RLIM_INFINITY ? UINT64_MAX : after.rlim_cur);
}

}  // namespace

// A log file over its limit is set aside as <path>.1 and the descriptor writes on in a new file.
#include "sales/log/rotation.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sales::log {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_fd(int fd, const std::string& s) { ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size())); }

class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rotation-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    log_ = dir_ / "svc.log";
    fd_ = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    fs::remove_all(dir_);
  }
  fs::path dir_, log_;
  int fd_ = -1;
};

TEST_F(RotationTest, AFileOverTheLimitMovesToDotOneAndTheDescriptorWritesToANewFile) {
  write_fd(fd_, std::string(100, 'a'));
  EXPECT_EQ(rotate_if_over(fd_, 99), log_.string());
  write_fd(fd_, "after\n");
  EXPECT_EQ(read_all(dir_ / "svc.log.1"), std::string(100, 'a'));
  EXPECT_EQ(read_all(log_), "after\n");
  struct stat st {};
  ASSERT_EQ(::stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "the new file keeps the old one's permissions";
}

TEST_F(RotationTest, ATwinDescriptorOfTheSameFileMovesToTheNewFileToo) {
  const int twin = ::dup(fd_);  // as stdout after `>>log 2>&1`
  ASSERT_GE(twin, 0);
  write_fd(fd_, std::string(10, 'a'));
  ASSERT_EQ(rotate_if_over(fd_, 1, twin), log_.string());
  write_fd(twin, "twin\n");
  write_fd(fd_, "main\n");
  EXPECT_EQ(read_all(log_), "twin\nmain\n");
  EXPECT_EQ(read_all(dir_ / "svc.log.1"), std::string(10, 'a'));
  ::close(twin);
}

TEST_F(RotationTest, AnotherFileAsTwinIsLeftWhereItIs) {
  const fs::path other = dir_ / "other.log";
  const int twin = ::open(other.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  ASSERT_GE(twin, 0);
  write_fd(fd_, std::string(10, 'a'));
  ASSERT_EQ(rotate_if_over(fd_, 1, twin), log_.string());
  write_fd(twin, "other\n");
  EXPECT_EQ(read_all(other), "other\n");
  EXPECT_EQ(fs::file_size(log_), 0u);
  ::close(twin);
}

TEST_F(RotationTest, AFileWithinTheLimitIsLeftAlone) {
  write_fd(fd_, std::string(100, 'a'));
  EXPECT_EQ(rotate_if_over(fd_, 100), "");
  EXPECT_FALSE(fs::exists(dir_ / "svc.log.1"));
  EXPECT_EQ(fs::file_size(log_), 100u);
}

TEST_F(RotationTest, TheNextRotationReplacesTheOlderDotOne) {
  write_fd(fd_, "first\n");
  ASSERT_EQ(rotate_if_over(fd_, 1), log_.string());
  write_fd(fd_, "second\n");
  ASSERT_EQ(rotate_if_over(fd_, 1), log_.string());
  EXPECT_EQ(read_all(dir_ / "svc.log.1"), "second\n");
  EXPECT_EQ(fs::file_size(log_), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "svc.log.1.1"));
}

TEST_F(RotationTest, APipeIsNeverRotated) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  write_fd(p[1], "x");
  EXPECT_EQ(rotate_if_over(p[1], 0), "");
  ::close(p[0]);
  ::close(p[1]);
}

TEST_F(RotationTest, AFileWhoseNameIsGoneIsNotRotated) {
  write_fd(fd_, std::string(10, 'a'));
  fs::remove(log_);
  EXPECT_EQ(rotate_if_over(fd_, 1), "");
  EXPECT_FALSE(fs::exists(dir_ / "svc.log.1"));
}

}  // namespace
}  // namespace sales::log

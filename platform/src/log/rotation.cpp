#include "sales/log/rotation.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace sales::log {

namespace {
// The path `fd` was opened with, from /proc (empty when unknown or deleted).
std::string path_of(int fd) {
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  std::string path(4096, '\0');
  const ssize_t n = ::readlink(link.c_str(), path.data(), path.size());
  if (n <= 0 || static_cast<std::size_t>(n) >= path.size()) return {};
  path.resize(static_cast<std::size_t>(n));
  if (path.front() != '/' || path.ends_with(" (deleted)")) return {};
  return path;
}
}  // namespace

std::string rotate_if_over(int fd, std::uint64_t max_bytes, int twin_fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) <= max_bytes) return {};
  struct stat twin {};
  const bool same_file = twin_fd >= 0 && twin_fd != fd && ::fstat(twin_fd, &twin) == 0 && twin.st_dev == st.st_dev &&
                         twin.st_ino == st.st_ino;
  const std::string path = path_of(fd);
  if (path.empty()) return {};
  const std::string old = path + ".1";
  if (std::rename(path.c_str(), old.c_str()) != 0) return {};
  const int fresh = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, st.st_mode & 0777);
  if (fresh < 0) {  // put the name back, so the next check rotates the same file again
    std::rename(old.c_str(), path.c_str());
    return {};
  }
  // dup2 swaps the descriptor atomically: a concurrent write goes to the old file or the new.
  const bool swapped = ::dup2(fresh, fd) == fd;
  if (same_file) ::dup2(fresh, twin_fd);
  ::close(fresh);
  return swapped ? path : std::string{};
}

}  // namespace sales::log

#include "wakeup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <vector>

namespace sales::events::detail {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<int> fds;
};

Registry& registry() {
  static Registry r;  // never destroyed before a relay: relays unregister in their destructor
  return r;
}

}  // namespace

RelayWakeup::RelayWakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  std::lock_guard lock(registry().mu);
  registry().fds.push_back(fd_);
}

RelayWakeup::~RelayWakeup() {
  {
    std::lock_guard lock(registry().mu);
    auto& fds = registry().fds;
    fds.erase(std::remove(fds.begin(), fds.end(), fd_), fds.end());
  }
  ::close(fd_);
}

void RelayWakeup::drain() const {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);  // EAGAIN when not woken: fine
}

namespace {
void wake_fd(int fd) noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);  // a full counter is still readable
}
}  // namespace

void RelayWakeup::wake() const noexcept { wake_fd(fd_); }

void wake_relays() noexcept {
  std::lock_guard lock(registry().mu);
  for (int fd : registry().fds) wake_fd(fd);
}

}  // namespace sales::events::detail

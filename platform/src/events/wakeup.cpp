#include "wakeup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>

namespace sales::events::detail {
namespace {

service::WakeRegistry& relays() {
  static service::WakeRegistry registry;  // outlives the relays: they unregister when destroyed
  return registry;
}

int open_eventfd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

RelayWakeup::RelayWakeup() : fd_(open_eventfd()) {
  try {
    registration_ = relays().add([this] { wake(); });
  } catch (...) {
    ::close(fd_);  // the destructor does not run for a constructor that throws
    throw;
  }
}

RelayWakeup::~RelayWakeup() {
  registration_.reset();  // no commit writes to the fd once it is closed (and maybe reused)
  ::close(fd_);
}

void RelayWakeup::drain() const {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);  // EAGAIN when not woken: fine
}

void RelayWakeup::wake() const noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);  // a full counter is still readable
}

void wake_relays() noexcept { relays().wake_all(); }

}  // namespace sales::events::detail

#include "sales/service/wake_registry.hpp"

namespace sales::service {

WakeRegistry::Registration& WakeRegistry::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void WakeRegistry::Registration::reset() noexcept {
  if (registry_ == nullptr) return;
  std::exchange(registry_, nullptr)->remove(id_);
}

WakeRegistry::Registration WakeRegistry::add(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  const auto id = next_id_++;
  wakers_.emplace_back(id, std::move(wake));
  return Registration(this, id);
}

void WakeRegistry::wake_all() noexcept {
  std::lock_guard lock(mu_);
  for (const auto& [id, wake] : wakers_) wake();
}

void WakeRegistry::remove(std::uint64_t id) noexcept {
  // Under the lock that wake_all() holds while it calls the wakers: once this returns, no
  // call of this waker is running or can start.
  std::lock_guard lock(mu_);
  std::erase_if(wakers_, [id](const auto& waker) { return waker.first == id; });
}

}  // namespace sales::service

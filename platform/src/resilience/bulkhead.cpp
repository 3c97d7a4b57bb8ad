#include "sales/resilience/bulkhead.hpp"

#include <stdexcept>
#include <utility>

namespace sales::resilience {

Bulkhead::Permit::Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}

Bulkhead::Permit& Bulkhead::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
  }
  return *this;
}

void Bulkhead::Permit::release() noexcept {
  if (Bulkhead* owner = std::exchange(owner_, nullptr)) owner->leave();
}

Bulkhead::Bulkhead(std::size_t max_concurrent) : max_concurrent_(max_concurrent) {
  if (max_concurrent == 0) throw std::invalid_argument("bulkhead: max_concurrent must be positive");
}

std::optional<Bulkhead::Permit> Bulkhead::try_enter() {
  std::size_t current = in_flight_.load(std::memory_order_relaxed);
  do {
    if (current >= max_concurrent_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
  } while (!in_flight_.compare_exchange_weak(current, current + 1, std::memory_order_acquire,
                                             std::memory_order_relaxed));
  admitted_.fetch_add(1, std::memory_order_relaxed);

  // Counters only: a racing reader may briefly see a peak one call behind.
  std::size_t peak = peak_in_flight_.load(std::memory_order_relaxed);
  while (current + 1 > peak &&
         !peak_in_flight_.compare_exchange_weak(peak, current + 1, std::memory_order_relaxed)) {
  }
  return Permit(this);
}

void Bulkhead::leave() noexcept { in_flight_.fetch_sub(1, std::memory_order_release); }

BulkheadSnapshot Bulkhead::snapshot() const {
  BulkheadSnapshot snapshot;
  snapshot.max_concurrent = max_concurrent_;
  snapshot.in_flight = in_flight_.load(std::memory_order_relaxed);
  snapshot.peak_in_flight = peak_in_flight_.load(std::memory_order_relaxed);
  snapshot.admitted = admitted_.load(std::memory_order_relaxed);
  snapshot.rejected = rejected_.load(std::memory_order_relaxed);
  return snapshot;
}

}  // namespace sales::resilience

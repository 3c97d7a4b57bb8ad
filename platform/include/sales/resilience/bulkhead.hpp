#pragma once
// A bound on concurrent calls to one upstream (DESIGN.md §5): when it is reached, the gateway
// answers 503 at once instead of queueing, so one slow upstream cannot tie up every worker.
// Lock-free: entering and leaving are a compare-and-swap and a decrement.
//
// Usage:
//   auto permit = bulkhead.try_enter();
//   if (!permit) return service_unavailable();
//   ... call the upstream; the slot is freed when `permit` is destroyed or released ...
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sales::resilience {

struct BulkheadSnapshot {
  std::size_t max_concurrent = 0;
  std::size_t in_flight = 0;
  std::size_t peak_in_flight = 0;  // highest in_flight seen since construction
  std::uint64_t admitted = 0;
  std::uint64_t rejected = 0;
};

class Bulkhead {
 public:
  // Holds one slot until destroyed or released. Movable, so it can travel with an async call;
  // a moved-from permit holds nothing. The bulkhead must outlive its permits.
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }

    void release() noexcept;  // frees the slot early; later calls do nothing
    bool holds_slot() const { return owner_ != nullptr; }

   private:
    friend class Bulkhead;
    explicit Permit(Bulkhead* owner) : owner_(owner) {}
    Bulkhead* owner_;
  };

  explicit Bulkhead(std::size_t max_concurrent);
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  [[nodiscard]] std::optional<Permit> try_enter();

  std::size_t max_concurrent() const { return max_concurrent_; }
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  BulkheadSnapshot snapshot() const;

 private:
  void leave() noexcept;

  const std::size_t max_concurrent_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> peak_in_flight_{0};
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace sales::resilience

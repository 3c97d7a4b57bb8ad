#pragma once
// Bytes of messages held at once, over all connections and threads: each message is
// bounded on its own, but thousands in flight at once would hold thousands of them. The
// server counts request bodies here; the gateway counts its upstreams' answers in another.
// A message is charged as its bytes arrive, not by what its header declares: a connection
// that declares a large body and sends nothing holds nothing. The read that would pass the
// limit ends its message.
#include <atomic>
#include <cstddef>

namespace sales::http {

class ByteBudget {
 public:
  explicit ByteBudget(std::size_t limit) : limit_(limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // What one message holds, from nothing, until it is destroyed.
  class Hold {
   public:
    explicit Hold(ByteBudget& budget) : budget_(budget) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { budget_.held_.fetch_sub(bytes_, std::memory_order_relaxed); }
    // Takes `more` bytes too; false (nothing more taken) when they do not fit.
    [[nodiscard]] bool grow(std::size_t more) {
      if (!budget_.take(more)) return false;
      bytes_ += more;
      return true;
    }
    // Takes `more` bytes whether or not they fit: for what is too small to refuse (the
    // gateway's small answers), which may then hold the budget past its limit.
    void force(std::size_t more) {
      budget_.held_.fetch_add(more, std::memory_order_relaxed);
      bytes_ += more;
    }

   private:
    ByteBudget& budget_;
    std::size_t bytes_ = 0;
  };

  [[nodiscard]] Hold hold() { return Hold(*this); }
  [[nodiscard]] std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t limit() const { return limit_; }

 private:
  bool take(std::size_t bytes) {
    std::size_t held = held_.load(std::memory_order_relaxed);
    do {
      if (held > limit_ || bytes > limit_ - held) return false;  // past it only by force()
    } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
    return true;
  }

  const std::size_t limit_;
  std::atomic<std::size_t> held_{0};
};

}  // namespace sales::http

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
    // Takes `more` bytes too, leaving at least `keep_free` of the limit untaken (a reserve
    // that only other holds, growing with a smaller `keep_free`, may use); false (nothing
    // more taken) when they do not fit.
    [[nodiscard]] bool grow(std::size_t more, std::size_t keep_free = 0) {
      if (!budget_.take(more, keep_free)) return false;
      bytes_ += more;
      return true;
    }

   private:
    ByteBudget& budget_;
    std::size_t bytes_ = 0;
  };

  [[nodiscard]] Hold hold() { return Hold(*this); }
  [[nodiscard]] std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t limit() const { return limit_; }

 private:
  bool take(std::size_t bytes, std::size_t keep_free) {
    const std::size_t usable = keep_free < limit_ ? limit_ - keep_free : 0;
    std::size_t held = held_.load(std::memory_order_relaxed);
    do {
      if (held > usable || bytes > usable - held) return false;  // held never exceeds limit_
    } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
    return true;
  }

  const std::size_t limit_;
  std::atomic<std::size_t> held_{0};
};

}  // namespace sales::http

#pragma once
// The bytes of request bodies a server holds at once, over all its connections. Each body
// is bounded (ServerOptions::body_limit), but thousands of connections each sending one
// slowly would hold thousands of them. A body is charged as its bytes arrive, not by what
// its header declares: a connection that declares a large body and sends nothing holds
// nothing. The read that would pass the limit ends the request (503, try again).
#include <atomic>
#include <cstddef>

namespace sales::http::detail {

class BodyBudget {
 public:
  explicit BodyBudget(std::size_t limit) : limit_(limit) {}

  // What one request holds, from nothing, until it is answered.
  class Hold {
   public:
    explicit Hold(BodyBudget& budget) : budget_(budget) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { budget_.held_.fetch_sub(bytes_, std::memory_order_relaxed); }
    // Takes `more` bytes too; false (nothing more taken) when they do not fit.
    [[nodiscard]] bool grow(std::size_t more) {
      if (!budget_.take(more)) return false;
      bytes_ += more;
      return true;
    }

   private:
    BodyBudget& budget_;
    std::size_t bytes_ = 0;
  };

  [[nodiscard]] Hold hold() { return Hold(*this); }

 private:
  bool take(std::size_t bytes) {
    std::size_t held = held_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ - held) return false;  // held never exceeds limit_
    } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
    return true;
  }

  const std::size_t limit_;
  std::atomic<std::size_t> held_{0};
};

}  // namespace sales::http::detail

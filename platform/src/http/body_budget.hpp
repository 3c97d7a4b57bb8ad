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

  // What one request holds until it is answered; empty (nothing held) when refused.
  class Hold {
   public:
    Hold() = default;
    Hold(BodyBudget* budget, std::size_t bytes) : budget_(budget), bytes_(bytes) {}
    Hold(Hold&& o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.budget_ = nullptr; }
    Hold& operator=(Hold&& o) noexcept {
      if (this != &o) {
        release();
        budget_ = o.budget_;
        bytes_ = o.bytes_;
        o.budget_ = nullptr;
      }
      return *this;
    }
    ~Hold() { release(); }
    explicit operator bool() const { return budget_ != nullptr; }
    // Takes `more` bytes too; false (nothing more taken) when they do not fit.
    [[nodiscard]] bool grow(std::size_t more) {
      if (!budget_ || !budget_->take(more)) return false;
      bytes_ += more;
      return true;
    }

   private:
    void release() {
      if (budget_) budget_->held_.fetch_sub(bytes_, std::memory_order_relaxed);
      budget_ = nullptr;
    }
    BodyBudget* budget_ = nullptr;
    std::size_t bytes_ = 0;
  };

  [[nodiscard]] Hold try_hold(std::size_t bytes) {
    if (!take(bytes)) return {};
    return Hold(this, bytes);
  }
  [[nodiscard]] std::size_t held() const { return held_.load(std::memory_order_relaxed); }

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

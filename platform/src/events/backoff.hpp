#pragma once
// Reconnect pacing for the relay and consumers: exponential with a cap and jitter (so a
// fleet of replicas does not reconnect in lockstep after a broker restart), and a sleep
// that a stop request cuts short.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stop_token>

namespace sales::events::detail {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}

  std::chrono::milliseconds next() {
    auto base = std::min(max_, initial_ * (std::int64_t{1} << std::min(failures_, 20)));
    ++failures_;
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(rng_)));
  }
  void reset() { failures_ = 0; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

// Sleeps for `d` or until stop is requested; returns false when stopped.
inline bool sleep_for(std::stop_token st, std::chrono::steady_clock::duration d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, st, d, [] { return false; });
  return !st.stop_requested();
}

}  // namespace sales::events::detail

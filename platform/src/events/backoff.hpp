#pragma once
// Reconnect pacing for the relay and consumers: exponential with a cap and jitter (so a
// fleet of replicas does not reconnect in lockstep after a broker restart), and a sleep
// that a stop request cuts short.
//
// Until the first success, for at most kFirstConnectTries failures, the cap is
// kFirstConnectMax instead: at start-up the broker is usually still booting beside the
// service (./sales up, a compose or k8s rollout start them together), and the service should
// be connected within half a second of the broker's listener opening, not up to `max`
// later. A broker that stays away past that (down, a wrong password) gets the normal
// backoff, as does a lost connection once connected.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stop_token>

namespace sales::events::detail {

class Backoff {
 public:
  static constexpr std::chrono::milliseconds kFirstConnectMax{500};
  static constexpr int kFirstConnectTries = 60;  // at 0.25–0.5 s each: 15–30 s

  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}

  std::chrono::milliseconds next() {
    const bool starting = !succeeded_ && failures_ < kFirstConnectTries;
    const auto cap = starting ? std::min(max_, kFirstConnectMax) : max_;
    auto base = std::min(cap, initial_ * (std::int64_t{1} << std::min(failures_, 20)));
    ++failures_;
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(rng_)));
  }
  // After a success: the next failure starts again from `initial`, capped by `max`.
  void reset() {
    failures_ = 0;
    succeeded_ = true;
  }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  bool succeeded_ = false;
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

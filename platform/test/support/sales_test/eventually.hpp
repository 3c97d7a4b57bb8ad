#pragma once
// Waiting in a test for what another thread or a background loop does: a condition asked
// again and again up to a deadline, never a sleep that hopes the work is done.
#include <chrono>
#include <functional>
#include <thread>

namespace sales_test {

// Polls `done` every `every` until it holds or `timeout` passes; says whether it held.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
                       std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace sales_test

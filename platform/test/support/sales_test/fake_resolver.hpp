#pragma once
// A name resolver a test steers, for AddressBook and the clients: it answers with the
// addresses it was given or fails, and while held it blocks like a resolver that does not
// answer (until released, or 10 s so a broken test ends). Copies of resolver() share it.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "sales/http/address_book.hpp"

namespace sales_test {

class FakeResolver {
 public:
  sales::http::Resolver resolver() const {
    return [s = state_](const std::string& host) {
      std::unique_lock lock(s->mu);
      ++s->calls;
      ++s->running;
      s->changed.notify_all();
      s->changed.wait_for(lock, std::chrono::seconds(10), [&] { return !s->held; });
      --s->running;
      s->changed.notify_all();
      if (!s->answer) throw std::runtime_error("Temporary failure in name resolution (" + host + ")");
      return *s->answer;
    };
  }
  void answer(sales::http::Addresses addresses) {
    set([&] { state_->answer = std::move(addresses); });
  }
  void fail() {
    set([&] { state_->answer.reset(); });
  }
  void hold() {
    set([&] { state_->held = true; });
  }
  void release() {
    set([&] { state_->held = false; });
  }
  [[nodiscard]] int calls() const {
    return read([&] { return state_->calls; });
  }
  [[nodiscard]] int running() const {
    return read([&] { return state_->running; });
  }
  // Waits (at most 10 s) until no resolution is running; false if one still is.
  bool wait_idle() const {
    std::unique_lock lock(state_->mu);
    return state_->changed.wait_for(lock, std::chrono::seconds(10), [&] { return state_->running == 0; });
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable changed;
    std::optional<sales::http::Addresses> answer;
    bool held = false;
    int calls = 0;
    int running = 0;
  };
  template <class F>
  void set(F f) {
    std::lock_guard lock(state_->mu);
    f();
    state_->changed.notify_all();
  }
  template <class F>
  int read(F f) const {
    std::lock_guard lock(state_->mu);
    return f();
  }
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace sales_test

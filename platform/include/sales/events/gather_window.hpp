#pragma once
// When a consumer or the outbox relay should wait a little for more work before its round.
//
// Each round (one transaction, one ack, one confirm wait) costs about the same whether it
// carries one event or ten, so under steady traffic a round that waits a millisecond or
// two for the next arrivals saves much of PostgreSQL's, RabbitMQ's and its own CPU. On a
// quiet system that wait would only add latency. So a round gathers only when the work
// before it arrived less than one window earlier (traffic is steady); after a quiet spell
// the first arrival is handled at once. What a wait adds is at most one window per hop.
#include <chrono>
#include <optional>

namespace sales::events {

class GatherWindow {
 public:
  using Clock = std::chrono::steady_clock;

  // window 0: never gather.
  explicit GatherWindow(Clock::duration window) : window_(window) {}

  // Work arrived at `now`: how long its round should gather before it starts (the window,
  // or zero when the previous arrival is a window ago or longer). Remembers the arrival.
  [[nodiscard]] Clock::duration arrived(Clock::time_point now) {
    const bool steady = last_ && now - *last_ < window_;
    last_ = now;
    return steady ? window_ : Clock::duration::zero();
  }

  // Later work of a round already gathering: only remembered.
  void also_arrived(Clock::time_point now) { last_ = now; }

 private:
  Clock::duration window_;
  std::optional<Clock::time_point> last_;  // none before the first arrival
};

}  // namespace sales::events

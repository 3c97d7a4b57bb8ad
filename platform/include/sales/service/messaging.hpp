#pragma once
// The event wiring every publishing or consuming service shares: the outbox tables in its
// migrations, an outbox relay, optionally one queue consumer, both started once the
// database is migrated, stopped on shutdown, and part of /health/ready.
#include <memory>
#include <optional>
#include <string>

#include "sales/events/consumer.hpp"
#include "sales/events/relay.hpp"
#include "sales/service/app.hpp"

namespace sales::service {

class Messaging {
 public:
  // Adds events::migration() to `migrations` (pass the service's own list) and registers
  // everything with the app (whose Options must say uses_broker). `consumer.queue` empty:
  // the service only publishes. Example: Messaging(app, migrations, {.queue = events::kOrderQueue}, dispatcher).
  Messaging(App& app, std::vector<pg::Migration> migrations, events::ConsumerOptions consumer = {},
            events::Dispatcher dispatcher = {});
  ~Messaging();

  [[nodiscard]] bool connected() const;

 private:
  std::unique_ptr<events::OutboxRelay> relay_;
  std::unique_ptr<events::Consumer> consumer_;
};

amqp::ConnectionParams broker_params(const BrokerSettings& b);

}  // namespace sales::service

#include "sales/service/messaging.hpp"

#include "sales/events/outbox.hpp"

namespace sales::service {

amqp::ConnectionParams broker_params(const BrokerSettings& b) {
  amqp::ConnectionParams p;
  p.host = b.host;
  p.port = b.port;
  p.user = b.user;
  p.password = b.password;
  p.vhost = b.vhost;
  return p;
}

Messaging::Messaging(App& app, std::vector<pg::Migration> migrations, events::ConsumerOptions consumer,
                     events::Dispatcher dispatcher) {
  migrations.push_back(events::migration());
  app.set_migrations(std::move(migrations));
  auto broker = broker_params(app.broker());
  // EVENTS_GATHER_US: under steady traffic, how long a relay or consumer round waits for more
  // work (events::GatherWindow); a quiet system never waits.
  const std::chrono::microseconds gather{app.env().integer("EVENTS_GATHER_US", 2000, 0, 100000)};
  events::RelayOptions relay_opts;
  relay_opts.gather_window = gather;
  relay_ = std::make_unique<events::OutboxRelay>(app.db().options().conninfo, broker, std::move(relay_opts));
  consumer.gather_window = gather;
  if (!consumer.queue.empty()) {
    consumer_ = std::make_unique<events::Consumer>(app.db(), broker, std::move(consumer), std::move(dispatcher));
  }
  app.on_database_ready([this] {
    relay_->start();
    if (consumer_) consumer_->start();
  });
  app.on_stop([this] {
    if (consumer_) consumer_->stop();
    relay_->stop();
  });
  app.add_ready_check(std::string(App::kBrokerCheck), [this] { return connected(); });
  // Inventory and shipping do their saga work here, not over HTTP: it keeps them from
  // counting as quiet (App::count_work).
  app.count_work([this] { return relay_->published() + (consumer_ ? consumer_->deliveries_handled() : 0); });
}

Messaging::~Messaging() = default;

bool Messaging::connected() const { return relay_->connected() && (!consumer_ || consumer_->connected()); }

}  // namespace sales::service

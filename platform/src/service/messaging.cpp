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
  relay_ = std::make_unique<events::OutboxRelay>(app.db().options().conninfo, broker);
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
  app.add_ready_check("broker", [this] { return connected(); });
}

Messaging::~Messaging() = default;

bool Messaging::connected() const { return relay_->connected() && (!consumer_ || consumer_->connected()); }

}  // namespace sales::service

#include "events/saga_consumer.hpp"

#include <boost/json/serialize.hpp>

#include "domain/saga.hpp"
#include "events/order_events.hpp"
#include "events/transitions.hpp"
#include "sales/events/event_data.hpp"
#include "sales/log/log.hpp"

namespace order {

namespace ev = sales::events;
namespace pg = sales::pg;

namespace {
struct Binding {
  const char* type;
  SagaEvent event;
};
constexpr Binding kBindings[] = {
    {"inventory.reserved", SagaEvent::StockReserved},   {"inventory.rejected", SagaEvent::StockRejected},
    {"payment.confirmed", SagaEvent::PaymentConfirmed}, {"payment.refunded", SagaEvent::PaymentRefunded},
    {"shipment.shipped", SagaEvent::ShipmentShipped},   {"shipment.delivered", SagaEvent::ShipmentDelivered},
};

sales::metrics::Counter& ignored_counter(sales::metrics::Registry& registry, std::string_view type, Status status) {
  return registry.counter("sales_order_saga_events_ignored_total", "Saga events that did not fit the order's status",
                          {{"event", std::string(type)}, {"status", std::string(name(status))}});
}

std::string numbered(std::string_view what, const std::optional<std::int64_t>& id, std::string_view verb) {
  std::string out(what);
  if (id) out += " " + std::to_string(*id);
  return out + " " + std::string(verb);
}

// Why the order moved to `to` because of `e` (about `payment`, if any): its history row's text.
std::string reason_for(SagaEvent event, Status to, const ev::Envelope& e, const std::optional<std::int64_t>& payment) {
  switch (event) {
    case SagaEvent::StockReserved: return "stock reserved";
    case SagaEvent::StockRejected: return rejection_reason(e.data);
    case SagaEvent::PaymentConfirmed: return numbered("payment", payment, "confirmed");
    case SagaEvent::PaymentRefunded: return "payment refunded";
    case SagaEvent::ShipmentShipped:
    case SagaEvent::ShipmentDelivered: {
      auto shipment = ev::optional_id_field(e, "shipment_id");
      if (to == Status::Delivered) return numbered("shipment", shipment, "delivered");
      bool implied = event == SagaEvent::ShipmentDelivered;
      return numbered("shipment", shipment, implied ? "shipped (known from its delivery)" : "shipped");
    }
  }
  return e.type;
}

class SagaHandler {
 public:
  SagaHandler(OrderStore& store, sales::metrics::Registry& registry) : store_(store), registry_(registry) {}

  void operator()(pg::Transaction& tx, const ev::Envelope& e, SagaEvent event) const {
    const std::int64_t order_id = ev::id_field(e, "order_id");
    auto order = store_.lock(tx, order_id);
    // Order events are published only after the order committed: an unknown id is
    // nobody's order and never will be.
    if (!order) throw ev::PoisonEvent("order " + std::to_string(order_id) + " does not exist");
    // A payment.confirmed names its payment: it becomes paid_by, which a ship asks the payment
    // service about (without it, a refund made before the ship would not stop the goods).
    auto payment = event == SagaEvent::PaymentConfirmed ? std::optional(ev::id_field(e, "payment_id"))
                                                        : ev::optional_id_field(e, "payment_id");
    const bool paid_by_another = order->paid_by && payment && *payment != *order->paid_by;
    auto reaction = react(event, order->status, paid_by_another);
    switch (reaction.kind) {
      case Reaction::Kind::Ignore:
        if (paid_by_another) {
          sales::log::warn("order {}: {} ({}) of payment {}, but payment {} paid it; ignored", order_id, e.type, e.id,
                           *payment, *order->paid_by);
        } else {
          sales::log::info("order {}: {} ({}) does not fit status {}; ignored", order_id, e.type, e.id,
                           name(order->status));
        }
        // Counted once it is settled: a consumer batch that rolls back runs its events again.
        tx.after_commit([&counter = ignored_counter(registry_, e.type, order->status)] { counter.inc(); });
        return;
      case Reaction::Kind::RepublishCancel:
        sales::log::warn("order {}: {} while {}; announcing the cancel again so the payment is refunded", order_id,
                         e.type, name(order->status));
        publish(tx, order_id,
                cancelled_again_event(order_id, order->status, "payment confirmed after the order was " +
                                                                   std::string(name(order->status))));
        return;
      case Reaction::Kind::Advance:
        for (Status to : reaction.path) advance(tx, *order, to, reason_for(event, to, e, payment), e, payment);
        return;
    }
  }

 private:
  void advance(pg::Transaction& tx, LockedOrder& order, Status to, const std::string& reason, const ev::Envelope& e,
               const std::optional<std::int64_t>& payment) const {
    Status from = order.status;
    transition(store_, tx, order, to, reason, payment);
    sales::log::info("order {}: {} -> {} ({}, event {})", order.id, name(from), name(to), reason, e.id);
  }

  OrderStore& store_;
  sales::metrics::Registry& registry_;
};
}  // namespace

std::string rejection_reason(const boost::json::object& data) {
  auto it = data.find("reason");
  if (it != data.end() && it->value().is_string() && !it->value().as_string().empty()) {
    return std::string(it->value().as_string());
  }
  auto number = [&](std::string_view key) -> std::string {
    auto f = data.find(key);
    return f != data.end() && f->value().is_number() ? boost::json::serialize(f->value()) : "?";
  };
  if (data.contains("product_id")) {
    return "insufficient stock for product " + number("product_id") + ": requested " + number("requested") +
           ", available " + number("available");
  }
  return "rejected by inventory";
}

ev::Dispatcher saga_dispatcher(OrderStore& store, sales::metrics::Registry& registry) {
  ev::Dispatcher d;
  SagaHandler handler(store, registry);
  for (const auto& b : kBindings) {
    SagaEvent event = b.event;
    d.on(b.type, [handler, event](pg::Transaction& tx, const ev::Envelope& e) { handler(tx, e, event); });
    // Every series an ignored event can count is there at 0 from the start: one born at 1
    // gives increase() nothing, and the first such event would raise no alert.
    for (Status status : kAllStatuses) {
      for (bool paid_by_another : {false, true}) {
        if (react(event, status, paid_by_another).kind == Reaction::Kind::Ignore) ignored_counter(registry, b.type, status);
      }
    }
  }
  return d;
}

}  // namespace order

#include "events/payment_events.hpp"

#include "sales/events/outbox.hpp"
#include "sales/json/writer.hpp"
#include "sales/log/log.hpp"
#include "store/payment_store.hpp"

namespace payment {

namespace {
const char* event_type(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::Confirmed: return "payment.confirmed";
    case PaymentStatus::Refunded: return "payment.refunded";
    case PaymentStatus::Pending:
    case PaymentStatus::Cancelled: return nullptr;  // the money never moved: nobody to tell
  }
  return nullptr;
}

std::int64_t order_id_of(const sales::events::Envelope& e) {
  auto* v = e.data.if_contains("order_id");
  if (!v || !v->is_int64() || v->as_int64() <= 0) {
    throw sales::events::PoisonEvent(e.type + " without a positive integer order_id");
  }
  return v->as_int64();
}

std::optional<std::string> optional_string(const sales::events::Envelope& e, const char* name) {
  auto* v = e.data.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}
}  // namespace

void publish_status_change(sales::pg::Transaction& tx, const Payment& p) {
  const char* type = event_type(p.status);
  if (!type) return;
  sales::json::Writer data;
  data.begin_object().field("payment_id", p.id).field("order_id", p.order_id).money_field("amount", p.amount_cents);
  data.end_object();
  sales::events::enqueue(tx, type, data.str(), "order-" + std::to_string(p.order_id));
}

sales::events::Dispatcher order_events_dispatcher() {
  return sales::events::Dispatcher{}.on("order.cancelled", [](sales::pg::Transaction& tx,
                                                              const sales::events::Envelope& e) {
    auto order_id = order_id_of(e);
    auto changed =
        cancel_order_payments(tx, order_id, optional_string(e, "reason"), optional_string(e, "previous_status"));
    for (const auto& p : changed) {
      sales::log::info("order {} cancelled: payment {} is now {}", order_id, p.id, to_string(p.status));
    }
  });
}

}  // namespace payment

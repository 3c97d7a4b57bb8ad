#include "events/payment_events.hpp"

#include "sales/events/event_data.hpp"
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
    auto order_id = sales::events::id_field(e, "order_id");
    auto changed =
        cancel_order_payments(tx, order_id, sales::events::optional_string_field(e, "reason"),
                              sales::events::optional_string_field(e, "previous_status"));
    for (const auto& p : changed) {
      sales::log::info("order {} cancelled: payment {} is now {}", order_id, p.id, to_string(p.status));
    }
  });
}

}  // namespace payment

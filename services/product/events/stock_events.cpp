#include "events/stock_events.hpp"

#include "sales/events/event_data.hpp"
#include "store/product_store.hpp"

namespace product {


sales::events::Dispatcher stock_dispatcher() {
  return sales::events::Dispatcher{}.on("inventory.stock_changed", [](sales::pg::Transaction& tx, const sales::events::Envelope& e) {
    // A product deleted meanwhile simply matches no row.
    namespace ev = sales::events;
    apply_stock_change(tx, ev::id_field(e, "product_id"), ev::integer_field(e, "stock", 0, ev::kMaxId),
                       ev::id_field(e, "version"));
  });
}

}  // namespace product

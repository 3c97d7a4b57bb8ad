#include "events/stock_events.hpp"

#include "store/product_store.hpp"

namespace product {

namespace {
std::int64_t int_member(const boost::json::object& data, const char* name) {
  auto* v = data.if_contains(name);
  if (!v || !v->is_int64()) throw sales::events::PoisonEvent(std::string("stock_changed without integer ") + name);
  return v->as_int64();
}
}  // namespace

sales::events::Dispatcher stock_dispatcher() {
  return sales::events::Dispatcher{}.on("inventory.stock_changed", [](sales::pg::Transaction& tx, const sales::events::Envelope& e) {
    // A product deleted meanwhile simply matches no row.
    apply_stock_change(tx, int_member(e.data, "product_id"), int_member(e.data, "stock"), int_member(e.data, "version"));
  });
}

}  // namespace product

#pragma once
// The product service keeps a read copy of stock from inventory.stock_changed events.
#include "sales/events/consumer.hpp"

namespace product {

sales::events::Dispatcher stock_dispatcher();

}  // namespace product

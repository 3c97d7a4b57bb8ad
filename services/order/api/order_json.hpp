#pragma once
// The order's wire format: untrusted bodies and query strings into domain values (400
// naming every invalid field), orders into JSON.
#include <string>
#include <string_view>

#include "domain/order.hpp"
#include "sales/http/list_query.hpp"
#include "sales/json/writer.hpp"
#include "store/order_store.hpp"

namespace order {

inline constexpr std::string_view kDefaultCancelReason = "cancelled on request";

// {customer_id, items: [{product_id, quantity}]} or the seed's {customer_id, product_id, quantity}.
NewOrder decode_new_order(std::string_view body);
// No body, {} or {"reason": "..."}.
std::string decode_cancel_reason(std::string_view body);
// ?customer_id=&status= (status in any case).
OrderFilter decode_filter(sales::http::ListQuery& query);

void write(sales::json::Writer& w, const Order& o, bool with_history);
// Shared with the order.created event, whose items have the same shape.
void write_items(sales::json::Writer& w, const std::vector<PricedLine>& items);
std::string render(const Order& o, bool with_history);

}  // namespace order

#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "api/order_client.hpp"
#include "sales/http/router.hpp"
#include "sales/problem/problem.hpp"
#include "store/shipment_store.hpp"

namespace shipping {

// Decoding of untrusted input into domain values (400 naming the field on any fault).
std::int64_t decode_new_shipment(std::string_view body);     // POST {order_id}
ShipmentStatus decode_status_update(std::string_view body);  // PUT {status}
ShipmentFilter decode_filter(sales::http::ListQuery& query);  // ?order_id=&status=

std::string render(const Shipment& s);
std::string render(const Shipment& s, const std::vector<HistoryEntry>& history);

// The 409 a refused PUT answers; nullopt when the update went through or had already.
std::optional<sales::Problem> update_problem(const UpdateResult& result, ShipmentStatus to);

void register_routes(sales::http::Router& router, ShipmentStore& store, OrderClient& orders);

}  // namespace shipping

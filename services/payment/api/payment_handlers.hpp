#pragma once
#include "api/order_client.hpp"
#include "sales/http/router.hpp"
#include "store/payment_store.hpp"

namespace payment {

// Decoding of untrusted input into domain values (400 on any invalid field).
NewPayment decode_new_payment(std::string_view body);
PaymentFilter decode_filter(sales::http::ListQuery& query);
std::string render(const Payment& p);
// Whether `order` may be paid with `amount_cents`: 409 (status) or 422 (amount) otherwise.
void require_payable(const OrderSnapshot& order, std::int64_t amount_cents);

void register_routes(sales::http::Router& router, PaymentStore& store, OrderClient& orders);

}  // namespace payment

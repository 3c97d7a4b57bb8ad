#pragma once
#include "sales/http/router.hpp"
#include "store/customer_store.hpp"

namespace customer {

NewCustomer decode_new_customer(std::string_view body);
CustomerPatch decode_patch(std::string_view body);
std::string render(const Customer& c);

void register_routes(sales::http::Router& router, CustomerStore& store);

}  // namespace customer

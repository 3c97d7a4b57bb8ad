#pragma once
#include "sales/http/router.hpp"
#include "store/product_store.hpp"

namespace product {

// Decoding of untrusted bodies into domain values (400 on any invalid field).
NewProduct decode_new_product(std::string_view body);
ProductPatch decode_patch(std::string_view body);
// GET /products' filters: ?q= (a name substring, at most the name's length) and ?ids=3,5,8
// (at most 100 positive integers); query.page() answers 400 naming a bad one.
ProductFilter decode_filter(sales::http::ListQuery& query);
std::string render(const Product& p);

void register_routes(sales::http::Router& router, ProductStore& store);

}  // namespace product

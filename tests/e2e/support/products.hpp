#pragma once
// Product helpers shared by the product tests (products_test.cpp, product_writes_test.cpp).
#include <cstdint>
#include <string>
#include <string_view>

#include "support/api.hpp"

namespace e2e {

std::string product_path(std::int64_t id);

// {"name": <name as a JSON string>, "price": <price_literal as written>}: the literal goes
// into the body untouched, so a test controls the exact digits the service parses.
std::string name_body(std::string_view name, std::string_view price_literal);

// The same product, allowing for the read copy of stock: inventory events update `stock`
// asynchronously (DESIGN §3), and such an update may move updated_at too. Everything a
// client can write (name, description, price) and id/created_at must be equal; updated_at
// too unless stock changed in between.
::testing::AssertionResult same_product(const Res& a, const Res& b);

// A product as the service returns it must have the contract's shape.
void expect_product_shape(const Res& r);

}  // namespace e2e

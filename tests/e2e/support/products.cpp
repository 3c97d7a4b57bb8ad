#include "support/products.hpp"

#include <boost/json.hpp>

namespace e2e {

std::string product_path(std::int64_t id) { return "/products/" + std::to_string(id); }

std::string name_body(std::string_view name, std::string_view price_literal) {
  return "{\"name\":" + boost::json::serialize(boost::json::value(boost::json::string_view(name.data(), name.size()))) +
         ",\"price\":" + std::string(price_literal) + "}";
}

::testing::AssertionResult same_product(const Res& a, const Res& b) {
  if (!a.json.is_object() || !b.json.is_object()) return ::testing::AssertionFailure() << "not objects";
  auto x = a.json.as_object(), y = b.json.as_object();
  bool stock_moved = x["stock"] != y["stock"];
  x.erase("stock");
  y.erase("stock");
  if (stock_moved) {
    x.erase("updated_at");
    y.erase("updated_at");
  }
  if (x == y) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << boost::json::serialize(a.json) << "\n  vs " << boost::json::serialize(b.json);
}

void expect_product_shape(const Res& r) {
  ASSERT_TRUE(is_resource(r, {"id", "name", "description", "price", "stock", "created_at", "updated_at"}));
  EXPECT_TRUE(r.at("name").is_string()) << r;
  EXPECT_TRUE(r.at("price").is_number()) << r;
  EXPECT_TRUE(r.at("stock").is_int64()) << r;
  EXPECT_TRUE(r.at("description").is_string() || r.at("description").is_null()) << r;
  EXPECT_TRUE(is_rfc3339_utc(r.str("created_at"))) << r.str("created_at");
  EXPECT_TRUE(is_rfc3339_utc(r.str("updated_at"))) << r.str("updated_at");
}

}  // namespace e2e

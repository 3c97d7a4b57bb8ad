#include "events/consumed.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace inventory {
namespace {

sales::events::Envelope event(const std::string& type, std::string_view data) {
  sales::events::Envelope e;
  e.id = "0b8e7f0c-5d7e-4a38-9f3a-1c2d3e4f5a6b";
  e.type = type;
  e.occurred_at = "2024-05-01T12:00:00.123Z";
  e.failed_attempts = 3;
  e.data = boost::json::parse(data).as_object();
  return e;
}

TEST(DecodeEvents, OrderCreatedTakesItsLinesAndEarlierAttempts) {
  auto o = decode_order_created(event("order.created", R"({"order_id":4,"customer_id":1,"total":3.50,
      "items":[{"product_id":7,"quantity":2,"unit_price":1.75},{"product_id":8,"quantity":1,"unit_price":0}],
      "shipping_address":"x"})"));
  EXPECT_EQ(o.order_id, 4);
  EXPECT_EQ(o.lines, (std::vector<Line>{{7, 2}, {8, 1}}));
  EXPECT_EQ(o.failed_attempts, 3);
}

TEST(DecodeEvents, MalformedOrderCreatedIsPoison) {
  for (const char* bad : {R"({"items":[{"product_id":7,"quantity":1}]})", R"({"order_id":4})",
                          R"({"order_id":4,"items":[]})", R"({"order_id":4,"items":{}})", R"({"order_id":4,"items":[7]})",
                          R"({"order_id":0,"items":[{"product_id":7,"quantity":1}]})",
                          R"({"order_id":4,"items":[{"product_id":7,"quantity":0}]})",
                          R"({"order_id":4,"items":[{"product_id":7,"quantity":1.5}]})",
                          R"({"order_id":4,"items":[{"quantity":1}]})"}) {
    EXPECT_THROW(decode_order_created(event("order.created", bad)), sales::events::PoisonEvent) << bad;
  }
}

TEST(DecodeEvents, ProductAndCancelEvents) {
  auto created = decode_product_created(event("product.created", R"({"product_id":7,"stock":0})"));
  EXPECT_EQ(created.product_id, 7);
  EXPECT_EQ(created.stock, 0);
  EXPECT_EQ(decode_product_id(event("product.deleted", R"({"product_id":7})")), 7);
  EXPECT_EQ(decode_order_id(event("order.cancelled", R"({"order_id":4,"reason":"x","previous_status":"PENDING"})")), 4);
  EXPECT_THROW(decode_product_created(event("product.created", R"({"product_id":7,"stock":-1})")),
               sales::events::PoisonEvent);
  EXPECT_THROW(decode_product_created(event("product.created", R"({"product_id":7})")), sales::events::PoisonEvent);
  EXPECT_THROW(decode_order_id(event("order.cancelled", R"({"order_id":"4"})")), sales::events::PoisonEvent);
}

}  // namespace
}  // namespace inventory

#include <gtest/gtest.h>

#include <functional>

#include "api/order_client.hpp"
#include "api/shipping_handlers.hpp"
#include "sales_test/http.hpp"

namespace shipping {
namespace {

using enum ShipmentStatus;

int status_of(const std::function<void()>& f) { return sales_test::problem_of(f).status; }

using sales_test::get;

TEST(DecodeNewShipment, TakesAPositiveOrderId) {
  EXPECT_EQ(decode_new_shipment(R"({"order_id":42})"), 42);
  for (const char* bad : {"", "[]", "{", R"({})", R"({"order_id":0})", R"({"order_id":-1})", R"({"order_id":"42"})",
                          R"({"order_id":1.5})", R"({"order_id":null})", R"({"order_id":1,"status":"SHIPPED"})"}) {
    EXPECT_EQ(status_of([&] { decode_new_shipment(bad); }), 400) << bad;
  }
}

TEST(DecodeStatusUpdate, TakesAKnownStatus) {
  EXPECT_EQ(decode_status_update(R"({"status":"SHIPPED"})"), Shipped);
  EXPECT_EQ(decode_status_update(R"({"status":"CANCELLED"})"), Cancelled);  // valid value; the transition decides
  for (const char* bad : {R"({})", R"({"status":"shipped"})", R"({"status":"LOST"})", R"({"status":""})",
                          R"({"status":5})", R"({"status":null})", R"({"status":"SHIPPED","address":"x"})"}) {
    EXPECT_EQ(status_of([&] { decode_status_update(bad); }), 400) << bad;
  }
  try {
    decode_status_update(R"({"status":"LOST"})");
  } catch (const sales::ProblemError& e) {
    ASSERT_EQ(e.problem().errors.size(), 1u);
    EXPECT_EQ(e.problem().errors[0].field, "status");
    EXPECT_EQ(e.problem().errors[0].message, "must be one of PENDING, SHIPPED, DELIVERED, CANCELLED");
  }
}

TEST(DecodeFilter, ValidatesOrderIdAndStatus) {
  auto f = decode_filter(get("/shipping?order_id=7&status=SHIPPED"));
  EXPECT_EQ(f.order_id, 7);
  EXPECT_EQ(f.status, Shipped);
  auto none = decode_filter(get("/shipping"));
  EXPECT_FALSE(none.order_id);
  EXPECT_FALSE(none.status);
  for (const char* bad : {"/shipping?status=LOST", "/shipping?status=shipped", "/shipping?order_id=abc",
                          "/shipping?order_id=0", "/shipping?order_id=-2", "/shipping?order_id=",
                          "/shipping?order_id=99999999999999999999"}) {
    EXPECT_EQ(status_of([&] { decode_filter(get(bad)); }), 400) << bad;
  }
}

Shipment sample() {
  return Shipment{7, 42, Shipped, "1 \"Main\" St", true, "t0", "t1", "t2", std::nullopt};
}

TEST(Render, WritesEveryField) {
  EXPECT_EQ(render(sample()),
            R"({"id":7,"order_id":42,"status":"SHIPPED","address":"1 \"Main\" St","order_paid":true,)"
            R"("created_at":"t0","updated_at":"t1","shipped_at":"t2","delivered_at":null})");
  Shipment tombstone{8, 43, Cancelled, std::nullopt, false, "t0", "t0", std::nullopt, std::nullopt};
  std::vector<HistoryEntry> history{{Cancelled, "order.cancelled: x (before order.created)", "t0"}};
  EXPECT_EQ(render(tombstone, history),
            R"({"id":8,"order_id":43,"status":"CANCELLED","address":null,"order_paid":false,)"
            R"("created_at":"t0","updated_at":"t0","shipped_at":null,"delivered_at":null,)"
            R"j("history":[{"status":"CANCELLED","reason":"order.cancelled: x (before order.created)","at":"t0"}]})j");
}

TEST(UpdateProblem, ExplainsTheConflict) {
  auto s = sample();
  EXPECT_FALSE(update_problem({UpdateVerdict::Apply, Pending, s}, Shipped));
  s.status = Pending;
  auto not_paid = update_problem({UpdateVerdict::NotPaid, Pending, s}, Shipped);
  ASSERT_TRUE(not_paid);
  EXPECT_EQ(not_paid->status, 409);
  EXPECT_EQ(not_paid->detail, "Shipment 7 cannot be shipped yet: order 42 is not paid yet.");
  auto not_allowed = update_problem({UpdateVerdict::NotAllowed, Delivered, s}, Pending);
  ASSERT_TRUE(not_allowed);
  EXPECT_EQ(not_allowed->status, 409);
  EXPECT_NE(not_allowed->detail.find("DELIVERED → PENDING is not allowed"), std::string::npos) << not_allowed->detail;
}

TEST(ParseOrder, ReadsStatusAndAddress) {
  auto o = parse_order(R"({"id":1,"status":"PAID","shipping_address":"1 Main St","items":[],"total":9.99})");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->status, "PAID");
  EXPECT_EQ(o->shipping_address, "1 Main St");
  auto no_address = parse_order(R"({"id":1,"status":"PENDING","shipping_address":null})");
  ASSERT_TRUE(no_address);
  EXPECT_FALSE(no_address->shipping_address);
  for (const char* bad :
       {"", "nope", "[]", R"({"id":1})", R"({"status":3})", R"({"status":"PAID","shipping_address":4})"}) {
    EXPECT_FALSE(parse_order(bad)) << bad;
  }
}

TEST(OrderServiceUrl, DefaultsAndValidates) {
  sales::config::Env empty(std::map<std::string, std::string>{});
  EXPECT_EQ(order_service_url(empty), "http://127.0.0.1:8002");
  EXPECT_NO_THROW(empty.finish());
  sales::config::Env bad(std::map<std::string, std::string>{{"ORDER_SERVICE_URL", "order:8002"}});
  order_service_url(bad);
  EXPECT_THROW(bad.finish(), sales::config::ConfigError);
}

TEST(OrderClient, UnreachableOrderServiceIs503) {
  OrderClient client("http://127.0.0.1:1");  // nothing listens on port 1
  EXPECT_EQ(status_of([&] { client.fetch(1, get("/shipping")); }), 503);
}

}  // namespace
}  // namespace shipping

// Every refusal of the saga's API (DESIGN §2/§3): 400 invalid input, 404 unknown id,
// 409 wrong state, 422 reference to something that does not exist or a wrong amount.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fixture.hpp"

namespace saga {
namespace {

class SagaRules : public SagaTest {
 protected:
  static std::string payment_body(std::int64_t order_id, const std::string& amount) {
    return R"({"order_id":)" + std::to_string(order_id) + R"(,"amount":)" + amount + "}";
  }
};

TEST_F(SagaRules, PaymentNeedsAConfirmedOrder) {
  std::int64_t product = create_product(500, 1);
  // REJECTED order: 409.
  Res rejected = place_order(customer_, {{product, 2}});
  ASSERT_EQ(rejected.status, 201) << rejected;
  ASSERT_TRUE(has_status(wait_order(rejected.id(), {"REJECTED", "CONFIRMED"}), "REJECTED"));
  EXPECT_TRUE(is_problem(post("/payments", payment_body(rejected.id(), "10.00")), 409));
  // CANCELLED order: 409.
  Res cancelled = confirmed_order(customer_, {{product, 1}});
  ASSERT_EQ(post("/orders/" + std::to_string(cancelled.id()) + "/cancel", "").status, 200);
  EXPECT_TRUE(is_problem(post("/payments", payment_body(cancelled.id(), "5.00")), 409));
  // PAID order: 409 (not CONFIRMED any more, and it has a live payment).
  Res paid = confirmed_order(customer_, {{product, 1}});
  ASSERT_GT(pay(paid.id(), 500), 0);
  EXPECT_TRUE(is_problem(post("/payments", payment_body(paid.id(), "5.00")), 409));
  EXPECT_EQ(payments_of(paid.id()).size(), 1u);
  // An order that does not exist: 422 (well-formed, refers to nothing).
  EXPECT_TRUE(is_problem(post("/payments", payment_body(999999999, "5.00")), 422));
}

TEST_F(SagaRules, PaymentAmountMustEqualTheTotal) {
  std::int64_t product = create_product(1250, 5);
  Res order = confirmed_order(customer_, {{product, 2}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  EXPECT_TRUE(is_problem(post("/payments", payment_body(order.id(), "24.99")), 422));
  EXPECT_TRUE(is_problem(post("/payments", payment_body(order.id(), "25.01")), 422));
  EXPECT_TRUE(is_problem(post("/payments", payment_body(order.id(), "12.50")), 422));
  EXPECT_TRUE(payments_of(order.id()).empty()) << "a refused payment must not be stored";
  // Invalid amounts: 400.
  EXPECT_TRUE(has_field_error(post("/payments", payment_body(order.id(), "25.001")), "amount"));
  EXPECT_TRUE(has_field_error(post("/payments", payment_body(order.id(), "-25.00")), "amount"));
  EXPECT_TRUE(has_field_error(post("/payments", payment_body(order.id(), "\"25.00\"")), "amount"));
  EXPECT_TRUE(has_field_error(post("/payments", R"({"amount":25.00})"), "order_id"));
  EXPECT_TRUE(is_problem(post("/payments", "{not json"), 400));
  Res ok = post("/payments", payment_body(order.id(), "25.00"));
  EXPECT_EQ(ok.status, 201) << ok;
  EXPECT_EQ(ok.str("status"), "PENDING");
  EXPECT_EQ(int_of(ok.at("order_id")), order.id());
  EXPECT_FALSE(ok.header("Location").empty());
}

TEST_F(SagaRules, OneLivePaymentPerOrderAndStatusRules) {
  std::int64_t product = create_product(800, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  Res first = post("/payments", payment_body(order.id(), "8.00"));
  ASSERT_EQ(first.status, 201) << first;
  std::string pid = std::to_string(first.id());
  // A second live payment: 409.
  EXPECT_TRUE(is_problem(post("/payments", payment_body(order.id(), "8.00")), 409));
  // Refund of a PENDING payment: 409.
  EXPECT_TRUE(is_problem(put("/payments/" + pid + "/refund", ""), 409));
  // Confirm, then confirm again (a retry after a lost answer): 200, the same payment.
  Res c1 = put("/payments/" + pid + "/confirm", "");
  ASSERT_EQ(c1.status, 200) << c1;
  EXPECT_EQ(c1.str("status"), "CONFIRMED");
  Res c2 = put("/payments/" + pid + "/confirm", "");
  ASSERT_EQ(c2.status, 200) << c2;
  EXPECT_EQ(c2.str("status"), "CONFIRMED");
  EXPECT_EQ(c2.str("updated_at"), c1.str("updated_at")) << "a repeated confirm changed the payment";
  ASSERT_TRUE(has_status(wait_order(order.id(), {"PAID"}), "PAID"));
  // Refund, then refund again: 200, the same payment; confirm again: 409.
  Res r1 = put("/payments/" + pid + "/refund", "");
  ASSERT_EQ(r1.status, 200) << r1;
  Res r2 = put("/payments/" + pid + "/refund", "");
  ASSERT_EQ(r2.status, 200) << r2;
  EXPECT_EQ(r2.str("status"), "REFUNDED");
  EXPECT_EQ(r2.str("updated_at"), r1.str("updated_at")) << "a repeated refund changed the payment";
  EXPECT_TRUE(is_problem(put("/payments/" + pid + "/confirm", ""), 409));
  Res cancelled = wait_order(order.id(), {"CANCELLED"});
  ASSERT_TRUE(has_status(cancelled, "CANCELLED"));
  // The repeats moved the order no further: PAID once, CANCELLED once.
  EXPECT_EQ(history_statuses(cancelled), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID", "CANCELLED"}))
      << cancelled;
  // Unknown payment: 404.
  EXPECT_TRUE(is_problem(get("/payments/999999999"), 404));
  EXPECT_TRUE(is_problem(put("/payments/999999999/confirm", ""), 404));
  EXPECT_TRUE(is_problem(put("/payments/999999999/refund", ""), 404));
  Res listed = get("/payments?order_id=" + std::to_string(order.id()));
  ASSERT_EQ(listed.status, 200) << listed;
  EXPECT_EQ(int_of(listed.at("total")), 1) << listed;
}

TEST_F(SagaRules, PendingPaymentOfACancelledOrderIsCancelledAndCannotBeConfirmed) {
  std::int64_t product = create_product(300, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  Res p = post("/payments", payment_body(order.id(), "3.00"));
  ASSERT_EQ(p.status, 201) << p;
  ASSERT_EQ(post("/orders/" + std::to_string(order.id()) + "/cancel", "").status, 200);
  // At once: the client was told the order is cancelled, so no payment for it may be
  // confirmed. Usually the payment service has not had order.cancelled yet and asks the
  // order; when the event was quicker (a fast host), the payment is CANCELLED already. Either
  // way a 409, for one of those two reasons.
  Res at_once = put("/payments/" + std::to_string(p.id()) + "/confirm", "");
  EXPECT_TRUE(is_problem(at_once, 409)) << at_once;
  const std::string detail = at_once.str("detail");
  EXPECT_TRUE(detail.find("payment " + std::to_string(p.id()) + " can no longer be confirmed") != std::string::npos ||
              detail.find("Payment " + std::to_string(p.id()) + " is CANCELLED") != std::string::npos)
      << at_once;
  Res cancelled = wait_payment(p.id(), {"CANCELLED"});
  EXPECT_EQ(cancelled.str("status"), "CANCELLED") << "a PENDING payment of a cancelled order becomes CANCELLED";
  EXPECT_TRUE(is_problem(put("/payments/" + std::to_string(p.id()) + "/confirm", ""), 409));
  EXPECT_EQ(order_status(order.id()), "CANCELLED");
  EXPECT_EQ(wait_stock(product, 5), 5);
}

TEST_F(SagaRules, OrderWithUnknownCustomerOrProductIs422) {
  std::int64_t product = create_product(100, 5);
  Res r = place_order(999999999, {{product, 1}});
  EXPECT_TRUE(is_problem(r, 422)) << "unknown customer";
  r = place_order(customer_, {{product, 1}, {999999999, 1}});
  EXPECT_TRUE(is_problem(r, 422)) << "unknown product";
  r = place_single(customer_, 999999998, 1);
  EXPECT_TRUE(is_problem(r, 422)) << "unknown product, single-item form";
  // A deleted product is unknown too.
  std::int64_t gone = create_product(100, 5);
  ASSERT_EQ(request("DELETE", "/products/" + std::to_string(gone)).status, 204);
  EXPECT_TRUE(is_problem(place_order(customer_, {{gone, 1}}), 422));
  // Among others (the product service is asked for all of an order's products at once): the
  // problem names the line whose product is gone.
  Res among = place_order(customer_, {{product, 1}, {gone, 2}});
  EXPECT_TRUE(is_problem(among, 422)) << among;
  const auto& errors = among.at("errors");
  ASSERT_TRUE(errors.is_array()) << among;
  ASSERT_EQ(errors.as_array().size(), 1u) << among;
  EXPECT_EQ(str_of(member(errors.as_array()[0], "field")), "items[1].product_id") << among;
  // So is a deleted customer.
  std::int64_t left = create_customer();
  ASSERT_EQ(request("DELETE", "/customers/" + std::to_string(left)).status, 204);
  EXPECT_TRUE(is_problem(place_order(left, {{product, 1}}), 422)) << "deleted customer";
  Res none = get("/orders?customer_id=" + std::to_string(left));
  EXPECT_EQ(int_of(none.at("total")), 0) << none;
  // Nothing was stored for this customer.
  Res list = get("/orders?customer_id=" + std::to_string(customer_));
  EXPECT_EQ(int_of(list.at("total")), 0) << list;
}

TEST_F(SagaRules, OrderValidationIs400) {
  std::int64_t product = create_product(100, 10);
  std::string c = std::to_string(customer_), p = std::to_string(product);
  auto items_of = [&](int n, int qty) {
    std::string items = "[";
    for (int i = 0; i < n; ++i) items += (i ? "," : "") + std::string(R"({"product_id":)") + std::to_string(i + 1) + R"(,"quantity":)" + std::to_string(qty) + "}";
    return items + "]";
  };
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"items":[{"product_id":)" + p + R"(,"quantity":0}]})"), "items[0].quantity"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"items":[{"product_id":)" + p + R"(,"quantity":1001}]})"), "items[0].quantity"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"items":[{"product_id":)" + p + R"(,"quantity":-1}]})"), "items[0].quantity"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"items":[{"product_id":)" + p + R"(,"quantity":1.5}]})"), "items[0].quantity"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"product_id":)" + p + R"(,"quantity":0})"), "quantity"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"product_id":)" + p + R"(,"quantity":1001})"), "quantity"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"items":)" + items_of(101, 1) + "}"), "items"))
      << "101 lines";
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":)" + c + R"(,"items":[]})"), "items"));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"items":[{"product_id":)" + p + R"(,"quantity":1}]})"), "customer_id"));
  EXPECT_TRUE(is_problem(post("/orders", R"({"customer_id":)" + c + R"(})"), 400));
  EXPECT_TRUE(has_field_error(post("/orders", R"({"customer_id":0,"product_id":)" + p + R"(,"quantity":1})"), "customer_id"));
  EXPECT_TRUE(is_problem(post("/orders", "[1,2]"), 400));
  EXPECT_TRUE(is_problem(post("/orders", "{"), 400));
  EXPECT_EQ(int_of(get("/orders?customer_id=" + c).at("total")), 0);
  // The limits themselves are fine, in both forms.
  Res max_qty = post("/orders", R"({"customer_id":)" + c + R"(,"items":[{"product_id":)" + p + R"(,"quantity":1000}]})");
  EXPECT_EQ(max_qty.status, 201) << max_qty;  // (then REJECTED for stock; that is the saga's business)
  Res single = post("/orders", R"({"customer_id":)" + c + R"(,"product_id":)" + p + R"(,"quantity":1})");
  EXPECT_EQ(single.status, 201) << single;
  // 100 lines of distinct existing products: accepted.
  std::string items = "[";
  std::vector<std::int64_t> many;
  for (int i = 0; i < 100; ++i) many.push_back(create_product(1, 1, /*wait_inventory=*/false));
  for (int i = 0; i < 100; ++i) items += (i ? "," : "") + std::string(R"({"product_id":)") + std::to_string(many[i]) + R"(,"quantity":1})";
  items += "]";
  for (auto id : many) wait_stock(id, 1, 15s);
  Res hundred = post("/orders", R"({"customer_id":)" + c + R"(,"items":)" + items + "}");
  ASSERT_EQ(hundred.status, 201) << hundred;
  EXPECT_EQ(hundred.at("items").as_array().size(), 100u);
  EXPECT_NE(hundred.body.find("\"total\":1.00"), std::string::npos) << hundred.body.substr(0, 200);
  EXPECT_TRUE(has_status(wait_order(hundred.id(), {"CONFIRMED", "REJECTED"}, 30s), "CONFIRMED"));
  wait_order(max_qty.id(), {"REJECTED", "CONFIRMED"});
  wait_order(single.id(), {"REJECTED", "CONFIRMED"});
}

TEST_F(SagaRules, UnknownOrdersAre404) {
  EXPECT_TRUE(is_problem(get("/orders/999999999"), 404));
  EXPECT_TRUE(is_problem(post("/orders/999999999/cancel", ""), 404));
  EXPECT_TRUE(is_problem(get("/shipping/999999999"), 404));
  EXPECT_TRUE(is_problem(put("/shipping/999999999", R"({"status":"SHIPPED"})"), 404));
  EXPECT_TRUE(is_problem(get("/inventory/stock/999999999"), 404));
}

TEST_F(SagaRules, ShipmentTransitionsFollowTheGraph) {
  std::int64_t product = create_product(100, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  auto s = wait_shipment(order.id(), "PENDING");
  ASSERT_FALSE(s.is_null());
  std::int64_t sid = int_of(member(s, "id"));
  EXPECT_TRUE(is_problem(ship_status(sid, "DELIVERED"), 409)) << "PENDING → DELIVERED";
  EXPECT_TRUE(is_problem(ship_status(sid, "PENDING"), 409)) << "PENDING → PENDING";
  EXPECT_TRUE(is_problem(ship_status(sid, "SHIPPED"), 409)) << "not paid yet";
  // Only the saga cancels a shipment (it follows its order): a client cannot.
  EXPECT_TRUE(is_problem(ship_status(sid, "CANCELLED"), 409)) << "PENDING → CANCELLED, order CONFIRMED";
  EXPECT_TRUE(has_field_error(ship_status(sid, "LOST"), "status")) << "unknown status";
  EXPECT_TRUE(has_field_error(put("/shipping/" + std::to_string(sid), "{}"), "status"));
  ASSERT_GT(pay(order.id(), 100), 0);
  ASSERT_TRUE(has_status(wait_order(order.id(), {"PAID"}), "PAID"));
  EXPECT_TRUE(is_problem(ship_status(sid, "CANCELLED"), 409)) << "PENDING → CANCELLED, order PAID";
  EXPECT_EQ(str_of(member(shipment_of(order.id()), "status")), "PENDING");
  EXPECT_TRUE(has_status(get("/orders/" + std::to_string(order.id())), "PAID"));
  Res shipped = ship_status(sid, "SHIPPED", 10s);
  ASSERT_EQ(shipped.status, 200) << shipped;
  // A repeat of the transition that happened (a retry after a lost answer): 200, unchanged.
  Res shipped_again = ship_status(sid, "SHIPPED");
  EXPECT_EQ(shipped_again.status, 200) << "SHIPPED → SHIPPED: " << shipped_again;
  EXPECT_EQ(shipped_again.str("updated_at"), shipped.str("updated_at")) << shipped_again;
  EXPECT_TRUE(is_problem(ship_status(sid, "PENDING"), 409)) << "SHIPPED → PENDING";
  EXPECT_TRUE(is_problem(ship_status(sid, "CANCELLED"), 409)) << "SHIPPED → CANCELLED";
  Res delivered = ship_status(sid, "DELIVERED");
  ASSERT_EQ(delivered.status, 200) << delivered;
  EXPECT_TRUE(is_problem(ship_status(sid, "SHIPPED"), 409)) << "DELIVERED → SHIPPED";
  EXPECT_TRUE(is_problem(ship_status(sid, "PENDING"), 409)) << "DELIVERED → PENDING";
  EXPECT_TRUE(is_problem(ship_status(sid, "CANCELLED"), 409)) << "DELIVERED → CANCELLED";
  Res delivered_again = ship_status(sid, "DELIVERED");
  EXPECT_EQ(delivered_again.status, 200) << "DELIVERED → DELIVERED: " << delivered_again;
  EXPECT_EQ(delivered_again.str("updated_at"), delivered.str("updated_at")) << delivered_again;
  Res done = wait_order(order.id(), {"DELIVERED"});
  ASSERT_TRUE(has_status(done, "DELIVERED"));
  EXPECT_EQ(history_statuses(done), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID", "SHIPPED", "DELIVERED"}))
      << done;
  EXPECT_EQ(history_statuses(get("/shipping/" + std::to_string(sid))),
            (std::vector<std::string>{"PENDING", "SHIPPED", "DELIVERED"}));
  // A cancelled shipment never ships.
  Res other = confirmed_order(customer_, {{product, 1}});
  ASSERT_EQ(post("/orders/" + std::to_string(other.id()) + "/cancel", "").status, 200);
  auto cs = wait_shipment(other.id(), "CANCELLED");
  EXPECT_TRUE(is_problem(ship_status(int_of(member(cs, "id")), "SHIPPED"), 409));
  EXPECT_TRUE(is_problem(ship_status(int_of(member(cs, "id")), "DELIVERED"), 409));
}

TEST_F(SagaRules, AShipmentFollowsItsOrderToShippedWhenShippingDiedMidway) {
  // PUT /shipping/{id} SHIPPED asks the order to move, then records its own SHIPPED. Here the
  // order is moved exactly as that call does, and shipping never records it, as when it is
  // killed in between: the order's order.shipped must bring the shipment along.
  std::int64_t product = create_product(100, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_GT(pay(order.id(), 100), 0);
  ASSERT_TRUE(has_status(wait_order(order.id(), {"PAID"}), "PAID"));
  Res moved = service_request("order", "POST", "/internal/orders/" + std::to_string(order.id()) + "/ship");
  ASSERT_EQ(moved.status, 200) << moved;
  EXPECT_EQ(moved.str("status"), "SHIPPED") << moved;
  auto s = wait_shipment(order.id(), "SHIPPED");
  ASSERT_FALSE(s.is_null()) << shipment_of(order.id());
  EXPECT_EQ(history_statuses(get("/shipping/" + std::to_string(int_of(member(s, "id"))))),
            (std::vector<std::string>{"PENDING", "SHIPPED"}));
  // From here on the shipment goes on as any other.
  EXPECT_EQ(ship_status(int_of(member(s, "id")), "DELIVERED").status, 200);
  EXPECT_TRUE(has_status(wait_order(order.id(), {"DELIVERED"}), "DELIVERED"));
}

}  // namespace
}  // namespace saga

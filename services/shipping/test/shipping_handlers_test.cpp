// Decoding, rendering and refusals at the HTTP edge; and PUT /shipping/{id} against
// PostgreSQL, with a stand-in for the order service: a repeat is answered as done.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "api/order_client.hpp"
#include "api/shipping_handlers.hpp"
#include "sales/http/server.hpp"
#include "sales/resilience/deadline.hpp"
#include "sales_test/http.hpp"
#include "test/shipment_db.hpp"

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
  EXPECT_EQ(decode_status_update(R"({"status":"delivered"})"), Delivered) << "any case, as the order service's filter";
  for (const char* bad : {R"({})", R"({"status":"LOST"})", R"({"status":""})",
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

ShipmentFilter filter_of(const std::string& target) {
  return sales_test::list_filter(target, [](sales::http::ListQuery& q) { return decode_filter(q); });
}

TEST(DecodeFilter, ValidatesOrderIdAndStatus) {
  auto f = filter_of("/shipping?order_id=7&status=SHIPPED");
  EXPECT_EQ(f.order_id, 7);
  EXPECT_EQ(f.status, Shipped);
  EXPECT_EQ(filter_of("/shipping?status=cancelled").status, Cancelled);
  auto none = filter_of("/shipping");
  EXPECT_FALSE(none.order_id);
  EXPECT_FALSE(none.status);
  for (const char* bad : {"/shipping?status=LOST", "/shipping?status=shipped%20", "/shipping?order_id=abc",
                          "/shipping?order_id=0", "/shipping?order_id=-2", "/shipping?order_id=",
                          "/shipping?order_id=99999999999999999999"}) {
    EXPECT_EQ(status_of([&] { filter_of(bad); }), 400) << bad;
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
  EXPECT_FALSE(update_problem({UpdateVerdict::AlreadyApplied, Shipped, s}, Shipped));
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

class ShippingApiTest : public ShipmentDbTest {
 protected:
  void SetUp() override {
    ShipmentDbTest::SetUp();
    if (HasFatalFailure()) return;
    order_service_.start();
    orders_ = std::make_unique<OrderClient>("http://127.0.0.1:" + std::to_string(order_service_.port()));
    register_routes(router_, store(), *orders_);
  }
  void TearDown() override {
    order_service_.stop();
    ShipmentDbTest::TearDown();
  }

  // PUT /shipping/{id} {"status": status}, and the router's answer to it.
  static sales::http::Request status_update(std::int64_t id, std::string_view status) {
    std::string body = R"({"status":")" + std::string(status) + R"("})";
    return sales_test::request("PUT", "/shipping/" + std::to_string(id), std::move(body));
  }
  sales::http::Response put_status(std::int64_t id, std::string_view status) {
    return sales_test::answer(router_, status_update(id, status));
  }
  std::vector<ShipmentStatus> history_of(std::int64_t id) {
    std::vector<ShipmentStatus> out;
    for (const auto& h : store().history(id)) out.push_back(h.status);
    return out;
  }

  // The order service's side of the ship handshake: PAID → SHIPPED, but for the orders in
  // unpaid_ (CONFIRMED there too), refused as the order service refuses them.
  Shipment made_unpaid(std::int64_t order_id) { return made_in(unpaid_, order_id); }
  // For the orders in undecided_ it cannot ask the payment service, as when that is down.
  Shipment made_undecided(std::int64_t order_id) { return made_in(undecided_, order_id); }
  Shipment made_in(std::set<std::int64_t>& orders, std::int64_t order_id) {
    {
      std::lock_guard lock(mu_);
      orders.insert(order_id);
    }
    return made_by_event(order_id, false);
  }
  std::atomic<int> ship_calls_{0};
  std::mutex mu_;
  std::set<std::int64_t> unpaid_;
  std::set<std::int64_t> undecided_;
  std::set<std::int64_t> slow_;  // answered (shipped) only after 500 ms
  std::string ship_key_;  // the last ship call's Idempotency-Key
  sales::http::Server order_service_{{.port = 0, .threads = 1}, [this](sales::http::Request& req) {
                                       if (!req.path().ends_with("/ship")) return sales::http::Response::json(200, "{}");
                                       ++ship_calls_;
                                       auto id = std::stoll(std::string(req.path().substr(17)));  // /internal/orders/
                                       bool slow = false;
                                       {
                                         std::lock_guard lock(mu_);
                                         slow = slow_.contains(id);
                                       }
                                       if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(500));
                                       std::lock_guard lock(mu_);
                                       ship_key_ = std::string(req.headers.get("Idempotency-Key").value_or(""));
                                       if (undecided_.contains(id)) {
                                         return sales::to_response(sales::Problem::unavailable(
                                             "The order's payment cannot be checked right now; nothing was shipped."));
                                       }
                                       if (!unpaid_.contains(id)) return sales::http::Response::json(200, "{}");
                                       return sales::to_response(sales::Problem::conflict(
                                           "Order " + std::to_string(id) + " is CONFIRMED; only a PAID order can be shipped."));
                                     }};
  std::unique_ptr<OrderClient> orders_;
  sales::http::Router router_;
};

// order.paid late, or lost for good (dead-lettered): the order service, which knows the order
// is PAID, decides, and the shipment ships and records the payment.
TEST_F(ShippingApiTest, AShipmentThatNeverHeardOfThePaymentShipsWhenTheOrderIsPaid) {
  auto s = made_by_event(86, false);
  ASSERT_FALSE(s.order_paid);
  auto shipped = put_status(s.id, "SHIPPED");
  EXPECT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_NE(shipped.body.find(R"("order_paid":true)"), std::string::npos) << shipped.body;
  EXPECT_EQ(ship_calls_.load(), 1);
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(ship_key_.starts_with("ship-") && ship_key_.size() == 41) << ship_key_ << ": a repeat is safe, the key lets the client send it again";
  }
  EXPECT_EQ(history_of(s.id), (std::vector{Pending, Shipped}));
  deliver("order.paid", R"({"order_id":86,"payment_id":9})");  // arriving after all: nothing more
  EXPECT_EQ(store().find(s.id)->status, Shipped);
}

// The repeat's body equals the first's, updated_at and shipped_at included: nothing was written.
TEST_F(ShippingApiTest, ARepeatedShipAnswers200WithTheShipmentAndChangesNothing) {
  auto s = made_by_event(80, true);
  sales::http::Response first;
  EXPECT_TRUE(sales_test::answers_twice_alike(router_, status_update(s.id, "SHIPPED"), &first));
  EXPECT_NE(first.body.find(R"("status":"SHIPPED")"), std::string::npos) << first.body;
  EXPECT_EQ(ship_calls_.load(), 1) << "a repeat asks the order service nothing";
  EXPECT_EQ(outbox().size(), 1u);
  EXPECT_EQ(history_of(s.id), (std::vector{Pending, Shipped}));
}

TEST_F(ShippingApiTest, ARepeatedDeliverAnswers200WithTheShipmentAndChangesNothing) {
  auto s = made_by_event(81, true);
  ASSERT_EQ(put_status(s.id, "SHIPPED").status, 200);
  sales::http::Response first;
  EXPECT_TRUE(sales_test::answers_twice_alike(router_, status_update(s.id, "DELIVERED"), &first));
  EXPECT_NE(first.body.find(R"("status":"DELIVERED")"), std::string::npos) << first.body;
  auto events = outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, "shipment.delivered");
  EXPECT_EQ(history_of(s.id), (std::vector{Pending, Shipped, Delivered}));
}

TEST_F(ShippingApiTest, EveryOtherRefusalIsStill409) {
  auto unpaid = made_unpaid(82);
  EXPECT_EQ(put_status(unpaid.id, "DELIVERED").status, 409);  // not shipped yet
  auto not_paid = put_status(unpaid.id, "SHIPPED");
  EXPECT_EQ(not_paid.status, 409);
  EXPECT_NE(not_paid.body.find("Order 82 is CONFIRMED; only a PAID order can be shipped."), std::string::npos)
      << not_paid.body;
  EXPECT_EQ(put_status(unpaid.id, "PENDING").status, 409);

  auto delivered = made_by_event(83, true);
  ASSERT_EQ(put_status(delivered.id, "SHIPPED").status, 200);
  ASSERT_EQ(put_status(delivered.id, "DELIVERED").status, 200);
  auto shipped_again = put_status(delivered.id, "SHIPPED");
  EXPECT_EQ(shipped_again.status, 409);
  EXPECT_NE(shipped_again.body.find("DELIVERED → SHIPPED is not allowed"), std::string::npos) << shipped_again.body;

  auto cancelled = made_by_event(84, true);
  deliver("order.cancelled", R"({"order_id":84,"reason":"customer asked","previous_status":"PAID"})");
  EXPECT_EQ(put_status(cancelled.id, "SHIPPED").status, 409);
  EXPECT_EQ(put_status(cancelled.id, "CANCELLED").status, 409);
  EXPECT_EQ(put_status(999'999, "SHIPPED").status, 404);

  EXPECT_EQ(ship_calls_.load(), 2) << "the unpaid order's and order 83's";
  EXPECT_EQ(outbox().size(), 2u);  // order 83's shipped and delivered
  EXPECT_EQ(history_of(unpaid.id), std::vector{Pending});
  EXPECT_EQ(history_of(cancelled.id), (std::vector{Pending, Cancelled}));
}

// The order service is up but cannot decide (its payment service is down): the client is
// told so in the order service's words, not that the order service is unreachable.
TEST_F(ShippingApiTest, AnOrderServiceThatCannotDecideIsA503InItsOwnWords) {
  auto s = made_undecided(87);
  auto refused = put_status(s.id, "SHIPPED");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers.get("Sales-Dependency-Unavailable"), "order") << "not the shipping service's own failure";
  EXPECT_NE(refused.body.find("Shipment " + std::to_string(s.id) +
                              " cannot ship now; the order service answered: The order's payment cannot be checked "
                              "right now; nothing was shipped."),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(history_of(s.id), std::vector{Pending});
  EXPECT_TRUE(outbox().empty());
}

// The order service does not answer before the request's deadline: it may have shipped the
// order, so the client is told that a repeat is safe, and the shipment is not marked shipped
// on a guess (the order's order.shipped ships it if it did).
TEST_F(ShippingApiTest, AnOrderServiceThatDoesNotAnswerInTimeIsA503SayingARepeatIsSafe) {
  auto s = made_in(slow_, 88);
  sales::http::Response refused;
  {
    sales::resilience::DeadlineScope scope(std::chrono::steady_clock::now() + std::chrono::milliseconds(150));
    refused = put_status(s.id, "SHIPPED");
  }
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers.get("Sales-Dependency-Unavailable"), "order");
  EXPECT_NE(refused.body.find("did not answer in time. If it shipped the order, the shipment follows shortly; repeating "
                              "the request is safe."),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(history_of(s.id), std::vector{Pending});
}

}  // namespace
}  // namespace shipping

// The HTTP resource against PostgreSQL, served by the platform's server on a free port,
// with a fake directory in place of the customer and product services.
#include "api/order_handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "events/saga_consumer.hpp"
#include "fake_directory.hpp"
#include "order_db.hpp"
#include "sales/events/envelope.hpp"
#include "sales/http/client.hpp"
#include "sales/http/server.hpp"
#include "sales/money/money.hpp"

namespace order {
namespace {

namespace http = sales::http;

class OrderApiTest : public OrderDbTest {
 protected:
  void SetUp() override {
    OrderDbTest::SetUp();
    if (HasFatalFailure()) return;
    directory_.customers[1] = {"1 Main St"};
    directory_.customers[2] = {"2 Side St"};
    directory_.customers[3] = {std::nullopt};
    directory_.products[7] = {1999};
    directory_.products[8] = {10};
    register_routes(router_, {*store_, directory_, *pool_});
    server_ = std::make_unique<http::Server>(http::ServerOptions{.port = 0, .threads = 4},
                                             [this](http::Request& r) { return router_.dispatch(r); });
    server_->start();
    client_ = std::make_unique<http::Client>(http::ClientOptions{.base_url = "http://127.0.0.1:" + std::to_string(server_->port())});
  }
  void TearDown() override {
    if (server_) server_->stop();
    OrderDbTest::TearDown();
  }

  http::Response send(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& idempotency_key = "") {
    http::Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    if (!body.empty()) r.headers.set("Content-Type", "application/json");
    if (!idempotency_key.empty()) r.headers.set("Idempotency-Key", idempotency_key);
    r.headers.set("X-Request-Id", "test-request");
    return client_->send(std::move(r));
  }
  // The saga's consumer applies event `type` about order `id` (with `payment_id` in its data).
  void apply_event(const char* type, std::int64_t id, std::int64_t payment_id = 0) {
    auto dispatcher = saga_dispatcher(*store_, sales::metrics::global());
    sales::events::Envelope e{sales::events::new_uuid(), type, sales::events::now_rfc3339(), "", {}, {}};
    e.data["order_id"] = id;
    if (payment_id > 0) e.data["payment_id"] = payment_id;
    pg::Transaction tx(*pool_);
    dispatcher(tx, e);
    tx.commit();
  }
  static boost::json::object json(const http::Response& r) { return boost::json::parse(r.body).as_object(); }
  static std::vector<std::string> fields(const http::Response& r) {
    std::vector<std::string> out;
    auto problem = json(r);  // kept alive: a range-for would not extend the temporary's life
    for (const auto& e : problem.at("errors").as_array()) out.emplace_back(e.as_object().at("field").as_string());
    return out;
  }

  FakeDirectory directory_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

constexpr const char* kTwoLines = R"({"customer_id":1,"items":[{"product_id":7,"quantity":2},{"product_id":8,"quantity":3}]})";

TEST_F(OrderApiTest, PlacesAnOrderWithSnapshotsAndAnEvent) {
  auto res = send("POST", "/orders", kTwoLines);
  ASSERT_EQ(res.status, 201) << res.body;
  auto o = json(res);
  auto id = o.at("id").as_int64();
  EXPECT_EQ(res.headers.get("Location"), "/orders/" + std::to_string(id));
  EXPECT_EQ(o.at("status").as_string(), "PENDING");
  EXPECT_EQ(o.at("shipping_address").as_string(), "1 Main St");
  EXPECT_NE(res.body.find(R"("total":40.28)"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"({"product_id":8,"quantity":3,"unit_price":0.10})"), std::string::npos) << res.body;
  EXPECT_EQ(directory_.seen_request_ids.front(), "test-request");

  auto event = sole_event("order.created");
  EXPECT_EQ(event.correlation_id, "order-" + std::to_string(id));
  EXPECT_EQ(event.data.at("items").as_array().size(), 2u);

  auto got = send("GET", "/orders/" + std::to_string(id));
  ASSERT_EQ(got.status, 200);
  auto history = json(got).at("history").as_array();  // a copy
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].as_object().at("reason").as_string(), "order placed");
}

TEST_F(OrderApiTest, TakesTheSeedsForm) {
  auto res = send("POST", "/orders", R"({"customer_id":2,"product_id":8,"quantity":3})");
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(json(res).at("shipping_address").as_string(), "2 Side St");
  EXPECT_NE(res.body.find(R"("total":0.30)"), std::string::npos) << res.body;
}

TEST_F(OrderApiTest, UnknownReferencesAre422AndWriteNothing) {
  auto res = send("POST", "/orders", R"({"customer_id":5,"items":[{"product_id":7,"quantity":1},{"product_id":99,"quantity":1}]})");
  EXPECT_EQ(res.status, 422) << res.body;
  EXPECT_EQ(res.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(fields(res), (std::vector<std::string>{"customer_id", "items[1].product_id"}));
  EXPECT_EQ(order_count(), 0);
  EXPECT_TRUE(take_outbox().empty());
}

// An order of a hundred unknown products names ten in its detail and counts the rest; the
// errors name every line (at most 100), as a 400's do.
TEST_F(OrderApiTest, ManyUnknownProductsGetAShortDetail) {
  std::string body = R"({"customer_id":1,"items":[)";
  for (int i = 0; i < 100; ++i) body += (i ? "," : "") + std::string(R"({"product_id":)") + std::to_string(1000 + i) + R"(,"quantity":1})";
  body += "]}";
  auto res = send("POST", "/orders", body);
  ASSERT_EQ(res.status, 422) << res.body;
  EXPECT_EQ(fields(res).size(), 100u);
  EXPECT_NE(res.body.find("; and 90 more.\""), std::string::npos) << res.body;
  EXPECT_LT(json(res).at("detail").as_string().size(), 600u) << "it had been 3.4 KB";
  EXPECT_EQ(order_count(), 0);
}

// A shipment with nowhere to go would be paid for and then stuck: the address comes first
// (409: the customer's state); an unknown product beside it is still the 422.
TEST_F(OrderApiTest, ACustomerWithoutAnAddressIs409AndWritesNothing) {
  auto res = send("POST", "/orders", R"({"customer_id":3,"product_id":8,"quantity":1})");
  EXPECT_EQ(res.status, 409) << res.body;
  EXPECT_EQ(fields(res), (std::vector<std::string>{"customer_id"}));
  auto unknown = send("POST", "/orders", R"({"customer_id":3,"product_id":99,"quantity":1})");
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_EQ(fields(unknown), (std::vector<std::string>{"items[0].product_id"}));
  EXPECT_NE(res.body.find("customer 3 has no address to ship to"), std::string::npos) << res.body;
  EXPECT_EQ(order_count(), 0);
  EXPECT_TRUE(take_outbox().empty());
}

TEST_F(OrderApiTest, BadInputIs400AndAsksNoOne) {
  auto res = send("POST", "/orders", R"({"customer_id":1,"items":[{"product_id":7,"quantity":1},{"product_id":7,"quantity":1}]})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(fields(res), (std::vector<std::string>{"items[1].product_id"}));
  EXPECT_EQ(send("POST", "/orders", R"({"customer_id":1,"product_id":7,"quantity":1001})").status, 400);
  EXPECT_TRUE(directory_.seen_request_ids.empty());
  EXPECT_EQ(send("GET", "/orders?status=LOST").status, 400);
  EXPECT_EQ(send("GET", "/orders?limit=0").status, 400);
  EXPECT_EQ(order_count(), 0);
}

TEST_F(OrderApiTest, TooLargeATotalIs400) {
  directory_.products[9] = {sales::money::kMaxCents};
  auto res = send("POST", "/orders", R"({"customer_id":1,"product_id":9,"quantity":2})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(fields(res), (std::vector<std::string>{"items"}));
  EXPECT_EQ(order_count(), 0);
}

TEST_F(OrderApiTest, AnOwnerDownIs503WithRetryAfterAndWritesNothing) {
  directory_.down = true;
  auto res = send("POST", "/orders", kTwoLines);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers.get("Retry-After"), "1");
  // The owner that is out, named: the gateway keeps the order service's breaker closed.
  EXPECT_EQ(res.headers.get("Sales-Dependency-Unavailable"), "product");
  EXPECT_EQ(order_count(), 0);
}

TEST_F(OrderApiTest, IdempotencyKeyReplaysTheFirstResponse) {
  auto first = send("POST", "/orders", kTwoLines, "key-1");
  ASSERT_EQ(first.status, 201);
  auto again = send("POST", "/orders", kTwoLines, "key-1");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers.get("Location"), first.headers.get("Location"));
  EXPECT_EQ(again.headers.get("Idempotent-Replayed"), "true");
  directory_.down = true;  // a repeat needs no owner to get its first answer
  EXPECT_EQ(send("POST", "/orders", kTwoLines, "key-1").body, first.body);
  directory_.down = false;
  const auto price = directory_.products[7];
  directory_.products[7] = {sales::money::kMaxCents};  // raised since: the total is now too large
  EXPECT_EQ(send("POST", "/orders", kTwoLines, "key-1").body, first.body) << "answered as the first time";
  directory_.products[7] = price;
  EXPECT_EQ(send("POST", "/orders", R"({"customer_id":1,"product_id":7,"quantity":1})", "key-1").status, 422);
  EXPECT_EQ(order_count(), 1);
  EXPECT_EQ(take_outbox().size(), 1u);
  EXPECT_EQ(send("POST", "/orders", kTwoLines, "key-2").status, 201);  // another key, another order
  EXPECT_EQ(order_count(), 2);
}

TEST_F(OrderApiTest, ConcurrentRepeatsMakeOneOrder) {
  std::vector<std::thread> threads;
  std::vector<std::string> ids(8);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      http::Client own({.base_url = "http://127.0.0.1:" + std::to_string(server_->port())});
      http::Request r;
      r.method = "POST";
      r.target = "/orders";
      r.body = kTwoLines;
      r.headers.set("Content-Type", "application/json");
      r.headers.set("Idempotency-Key", "same");
      auto res = own.send(std::move(r));
      // 409 is the contract's answer to a repeat that finds the first still uncommitted.
      ids[i] = res.status == 201 ? std::to_string(json(res).at("id").as_int64()) : std::to_string(res.status);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order_count(), 1);
  for (const auto& id : ids) EXPECT_TRUE(id == ids[0] || id == "409") << id;
}

TEST_F(OrderApiTest, CancelIsAllowedUntilShipped) {
  auto id = json(send("POST", "/orders", kTwoLines)).at("id").as_int64();
  take_outbox();
  auto res = send("POST", "/orders/" + std::to_string(id) + "/cancel", R"({"reason":"changed my mind"})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto o = json(res);
  EXPECT_EQ(o.at("status").as_string(), "CANCELLED");
  EXPECT_EQ(o.at("history").as_array().back().as_object().at("reason").as_string(), "changed my mind");
  auto event = sole_event("order.cancelled");
  EXPECT_EQ(event.data.at("previous_status").as_string(), "PENDING");

  auto again = send("POST", "/orders/" + std::to_string(id) + "/cancel");
  EXPECT_EQ(again.status, 409);
  EXPECT_TRUE(take_outbox().empty());
  EXPECT_EQ(send("POST", "/orders/999999/cancel").status, 404);
  EXPECT_EQ(send("POST", "/orders/" + std::to_string(id) + "/cancel", R"({"why":"x"})").status, 400);
}

// A refund the payment service answered before the shipment was asked for stops it, even
// while this order has not applied payment.refunded yet (the broker down, a consumer
// behind): DESIGN §4.7, an order refunded before it ships is cancelled, not shipped.
TEST_F(OrderApiTest, ShippingAsksThePaymentServiceWhetherThePaymentStillHolds) {
  auto id = json(send("POST", "/orders", kTwoLines)).at("id").as_int64();
  apply_event("inventory.reserved", id);
  apply_event("payment.confirmed", id, 5);
  ASSERT_EQ(status_of(id), Status::Paid);
  take_outbox();
  const std::string ship = "/internal/orders/" + std::to_string(id) + "/ship";

  directory_.payments[5] = "REFUNDED";
  auto refused = send("POST", ship);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("payment 5 was refunded"), std::string::npos) << refused.body;
  directory_.payments[5] = std::nullopt;  // a payment the payment service does not know
  EXPECT_EQ(send("POST", ship).status, 503);
  directory_.down = true;
  auto unknown = send("POST", ship);
  EXPECT_EQ(unknown.status, 503) << unknown.body;
  EXPECT_EQ(status_of(id), Status::Paid);
  EXPECT_TRUE(take_outbox().empty()) << "nothing shipped, nothing announced";

  directory_.down = false;
  directory_.payments[5] = "CONFIRMED";
  auto shipped = send("POST", ship);
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_EQ(json(shipped).at("status").as_string(), "SHIPPED");
  EXPECT_EQ(sole_event("order.shipped").data.at("order_id").as_int64(), id);
}

// An order made PAID before the payment that paid was recorded (migration 0005; paid_by
// NULL): the payment service is asked for the order's confirmed payment. A refunded one
// instead stops the shipment as a known payment refunded does; none at all is the
// inconsistency a payment it does not know is (503).
TEST_F(OrderApiTest, ShippingAnOrderPaidBeforePaymentsWereRecordedAsksForItsConfirmedPayment) {
  auto id = json(send("POST", "/orders", kTwoLines)).at("id").as_int64();
  pg::exec(*pool_, kTestSetStatus, {pg::param(id), pg::param("PAID")});
  take_outbox();
  const std::string ship = "/internal/orders/" + std::to_string(id) + "/ship";
  directory_.refunded_orders.insert(id);
  auto refused = send("POST", ship);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("its payment was refunded"), std::string::npos) << refused.body;
  directory_.refunded_orders.clear();
  auto unknown = send("POST", ship);
  EXPECT_EQ(unknown.status, 503) << unknown.body;
  EXPECT_NE(unknown.body.find("cannot be found at the payment service"), std::string::npos) << unknown.body;
  directory_.down = true;
  EXPECT_EQ(send("POST", ship).status, 503);
  directory_.down = false;
  EXPECT_EQ(status_of(id), Status::Paid);
  EXPECT_TRUE(take_outbox().empty()) << "nothing shipped, nothing announced";

  directory_.paid_orders[id] = {12};
  auto shipped = send("POST", ship);
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_EQ(sole_event("order.shipped").data.at("order_id").as_int64(), id);
}

// A payment confirmed moments ago, whose payment.confirmed has not reached the order yet: the
// shipment asked for at once finds the order CONFIRMED, and the payment service's word makes
// it PAID (by that payment, order.paid announced) and SHIPPED in the same transaction. No
// confirmed payment there, or the payment service out of reach: the 409 of an unpaid order.
TEST_F(OrderApiTest, ShippingAConfirmedOrderWhosePaymentWasJustConfirmedPaysAndShipsIt) {
  auto id = json(send("POST", "/orders", kTwoLines)).at("id").as_int64();
  apply_event("inventory.reserved", id);
  ASSERT_EQ(status_of(id), Status::Confirmed);
  take_outbox();
  const std::string ship = "/internal/orders/" + std::to_string(id) + "/ship";

  auto unpaid = send("POST", ship);
  EXPECT_EQ(unpaid.status, 409) << unpaid.body;
  EXPECT_NE(unpaid.body.find("is CONFIRMED; only a PAID order can be shipped"), std::string::npos) << unpaid.body;
  directory_.paid_orders[id] = {21};
  directory_.down = true;
  EXPECT_EQ(send("POST", ship).status, 409) << "nothing ships on a guess";
  EXPECT_EQ(status_of(id), Status::Confirmed);
  EXPECT_TRUE(take_outbox().empty());

  directory_.down = false;
  auto shipped = send("POST", ship);
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_EQ(json(shipped).at("status").as_string(), "SHIPPED");
  auto events = take_outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "order.paid");
  EXPECT_EQ(events[0].data.at("payment_id").as_int64(), 21);
  EXPECT_EQ(events[1].type, "order.shipped");
  // The payment.confirmed that comes after all fits no more and changes nothing.
  apply_event("payment.confirmed", id, 21);
  EXPECT_EQ(status_of(id), Status::Shipped);
  EXPECT_TRUE(take_outbox().empty());
}

TEST_F(OrderApiTest, ListsWithFiltersInTheEnvelope) {
  send("POST", "/orders", kTwoLines);
  send("POST", "/orders", R"({"customer_id":2,"product_id":8,"quantity":1})");
  auto res = send("GET", "/orders?customer_id=2&status=pending&limit=10");
  ASSERT_EQ(res.status, 200);
  auto page = json(res);
  EXPECT_EQ(page.at("total").as_int64(), 1);
  EXPECT_EQ(page.at("limit").as_int64(), 10);
  EXPECT_EQ(page.at("offset").as_int64(), 0);
  EXPECT_EQ(page.at("items").as_array()[0].as_object().at("customer_id").as_int64(), 2);
  EXPECT_EQ(send("GET", "/orders/abc").status, 404);
}

// A client's cancel and inventory's reservation race on one order: whichever commits
// second sees the first's outcome, and the history tells one consistent story.
TEST_F(OrderApiTest, CancelRacingTheReservationNeverLosesAnUpdate) {
  for (int round = 0; round < 20; ++round) {
    auto id = json(send("POST", "/orders", kTwoLines)).at("id").as_int64();
    int cancel_status = 0;
    std::thread cancel([&] { cancel_status = send("POST", "/orders/" + std::to_string(id) + "/cancel").status; });
    std::thread reserve([&] { apply_event("inventory.reserved", id); });
    cancel.join();
    reserve.join();
    auto o = store_->find(id);
    EXPECT_EQ(cancel_status, 200);  // PENDING and CONFIRMED may both be cancelled
    EXPECT_EQ(o->status, Status::Cancelled);
    std::vector<Status> path;
    for (const auto& h : o->history) path.push_back(h.status);
    bool reserved_first = path == std::vector<Status>{Status::Pending, Status::Confirmed, Status::Cancelled};
    bool cancelled_first = path == std::vector<Status>{Status::Pending, Status::Cancelled};
    EXPECT_TRUE(reserved_first || cancelled_first) << "round " << round;
  }
}

}  // namespace
}  // namespace order

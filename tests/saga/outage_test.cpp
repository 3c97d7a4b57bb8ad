// OUTAGE: deterministic failures, each made on purpose while the system is otherwise quiet
// (crash_test.cpp makes them at random under load): orders placed while inventory or
// RabbitMQ is down, a cancel certain to happen while the order is PENDING, a hung service
// behind the gateway's retries, PostgreSQL gone, and a service started while PostgreSQL or
// RabbitMQ is not up yet. Each ends with the system up and the invariant checker.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"
#include "support/replica.hpp"
#include "support/system.hpp"

namespace saga {
namespace {

class Outage : public SystemUpTest {
 protected:
  std::int64_t customer_ = 0;
  std::set<std::string> before_;
  void SetUp() override {
    SystemUpTest::SetUp();
    before_ = current_violations();
    customer_ = create_customer();
    ASSERT_GT(customer_, 0);
  }
  // An order of one unit, placed once every service is ready (an earlier test's failures
  // may still hold a breaker open: wait until calls go through).
  Res order_once_ready(std::int64_t product) {
    std::string not_ready;
    EXPECT_TRUE(wait_ready(60s, kAllServices, &not_ready)) << not_ready;
    return place_order(customer_, {{product, 1}});
  }
  void TearDown() override {
    SystemUpTest::TearDown();
    EXPECT_TRUE(invariants_hold(settle_time(), &before_));
  }
};

TEST_F(Outage, CancelWhilePendingWithInventoryDownEndsWithStockBack) {
  std::int64_t product = create_product(500, 10);
  CommandResult down = run_sales("down inventory");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  Res placed = place_order(customer_, {{product, 4}});
  ASSERT_EQ(placed.status, 201) << placed;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(order_status(placed.id()), "PENDING") << "nobody can reserve while inventory is down";
  // Pay a PENDING order: 409.
  EXPECT_TRUE(is_problem(post("/payments", R"({"order_id":)" + std::to_string(placed.id()) + R"(,"amount":20.00})"), 409));
  Res cancelled = post("/orders/" + std::to_string(placed.id()) + "/cancel", "");
  ASSERT_EQ(cancelled.status, 200) << cancelled;
  EXPECT_EQ(cancelled.str("status"), "CANCELLED");
  Res order = get("/orders/" + std::to_string(placed.id()));
  EXPECT_EQ(history_statuses(order), (std::vector<std::string>{"PENDING", "CANCELLED"})) << order;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  // Inventory now sees order.created and order.cancelled, in either order: reserved then
  // released, or a tombstone that the late order.created respects. Either way the stock ends
  // where it began, and stays there.
  Res reservation = wait_reservation(placed.id(), {"RELEASED", "CANCELLED"}, 30s);
  EXPECT_TRUE(reservation.str("status") == "RELEASED" || reservation.str("status") == "CANCELLED") << reservation;
  EXPECT_EQ(inventory_stock(product), 10);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inventory_stock(product), 10) << "a late order.created took stock for a cancelled order";
  EXPECT_EQ(order_status(placed.id()), "CANCELLED");
  EXPECT_EQ(str_of(member(wait_shipment(placed.id(), "CANCELLED"), "status")), "CANCELLED");
}

TEST_F(Outage, OrdersPlacedWhileInventoryIsKilledAreConfirmedAfterRestart) {
  std::int64_t product = create_product(100, 50);
  ASSERT_GT(kill_service("inventory"), 0) << "inventory was not running";
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    Res placed = place_order(customer_, {{product, 2}});
    ASSERT_EQ(placed.status, 201) << placed;
    ids.push_back(placed.id());
  }
  std::this_thread::sleep_for(500ms);
  for (auto id : ids) EXPECT_EQ(order_status(id), "PENDING");
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  for (auto id : ids) EXPECT_TRUE(has_status(wait_order(id, {"CONFIRMED", "REJECTED"}, 30s), "CONFIRMED"));
  EXPECT_EQ(wait_stock(product, 40), 40);
}

// The product service down: the order service answers each placement 503, naming product as
// the one out, and the gateway keeps the order service's breaker closed, so reading orders
// goes on (it used to open after ~12 placements, and every /orders route answered 503).
TEST_F(Outage, AServiceWhoseDependencyIsDownKeepsItsOwnRoutes) {
  std::int64_t product = create_product(100, 10);
  Res earlier = order_once_ready(product);
  ASSERT_EQ(earlier.status, 201) << earlier;
  CommandResult down = run_sales("down product");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  for (int i = 0; i < 25; ++i) {
    Res refused = place_order(customer_, {{product, 1}});
    ASSERT_TRUE(is_problem(refused, 503)) << refused;
    EXPECT_EQ(refused.header("Sales-Dependency-Unavailable"), "product") << refused;
  }
  EXPECT_EQ(get("/orders/" + std::to_string(earlier.id())).status, 200) << "the order service's own routes";
  const Res breakers = get("/gateway/circuit-breakers");
  EXPECT_EQ(str_of(member(breakers.at("order"), "state")), "closed") << breakers;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_EQ(place_order(customer_, {{product, 1}}).status, 201);
}

// A service whose callee hangs (SIGSTOP) names it within the request's budget (what the
// gateway sends as X-Request-Budget-Ms, here shorter than the service's own 2 s timeout for
// the call, as after GATEWAY_TIMEOUT_MS is lowered): 503 with Sales-Dependency-Unavailable,
// which the gateway counts against nobody's breaker, not its own 504, which the gateway
// counts against it. Nothing is created.
TEST_F(Outage, AServiceWhoseCalleeHangsNamesItWithinTheBudget) {
  std::int64_t product = create_product(100, 10);
  Res earlier = order_once_ready(product);
  ASSERT_EQ(earlier.status, 201) << earlier;
  const Headers budget = {{"X-Request-Budget-Ms", "800"}};

  // With an Idempotency-Key too (what the gateway retries): the look-up of an earlier answer
  // after the product service's silence must not turn the 503 into a 504.
  Headers keyed = budget;
  keyed.emplace_back("Idempotency-Key", new_key());
  ASSERT_GT(pause_service("product"), 0);
  Res placed = request_at(service_url("order"), "POST", "/orders", order_body(customer_, {{product, 1}}), budget);
  Res placed_keyed = request_at(service_url("order"), "POST", "/orders", order_body(customer_, {{product, 1}}), keyed);
  ASSERT_GT(resume_service("product"), 0);
  for (const Res& r : {placed, placed_keyed}) {
    EXPECT_TRUE(is_problem(r, 503)) << r;
    EXPECT_EQ(r.header("Sales-Dependency-Unavailable"), "product") << r;
  }
  // No time was left to look the key up: the answer may not say that nothing was saved.
  EXPECT_NE(placed_keyed.str("detail").find("an earlier request with this Idempotency-Key may have placed the order"),
            std::string::npos)
      << placed_keyed;

  ASSERT_GT(pause_service("order"), 0);
  Res paid = request_at(service_url("payment"), "POST", "/payments",
                        R"({"order_id":)" + std::to_string(earlier.id()) + R"(,"amount":1.00})", budget);
  ASSERT_GT(resume_service("order"), 0);
  EXPECT_TRUE(is_problem(paid, 503)) << paid;
  EXPECT_EQ(paid.header("Sales-Dependency-Unavailable"), "order") << paid;

  Res orders = get("/orders?customer_id=" + std::to_string(customer_));
  EXPECT_EQ(int_of(orders.at("total")), 1) << orders;
  Res payments = get("/payments?order_id=" + std::to_string(earlier.id()));
  EXPECT_EQ(int_of(payments.at("total")), 0) << payments;
}

TEST_F(Outage, RequestsTheGatewayRetriesWhileAServiceHangsApplyOnce) {
  // A hung service (SIGSTOP): the gateway's attempt times out, it retries what it may (a
  // take-out with an Idempotency-Key; one without is never repeated), and the client gets
  // 504. When the service wakes up it finds every copy in its sockets. Each request must
  // still take effect at most once.
  std::int64_t plain = create_product(100, 10);
  std::int64_t keyed = create_product(100, 10);
  // A breaker window of successes first (GATEWAY_CB_WINDOW calls, 20 by default), so
  // failures an earlier test left in it cannot open the breaker while these two requests hang.
  auto answered = [](const Res& x) { return x.status == 200; };
  for (int i = 0; i < 20; ++i) ASSERT_EQ(poll("/inventory/stock/" + std::to_string(plain), answered, 30s).status, 200);
  const Res breakers = get("/gateway/circuit-breakers");
  ASSERT_EQ(str_of(member(breakers.at("inventory"), "state")), "closed") << breakers;
  ASSERT_EQ(int_of(member(breakers.at("inventory"), "window_failures")), 0) << breakers;
  const std::vector<std::pair<std::string, std::string>> retried = {{"upstream", "inventory"}, {"result", "attempted"}},
                                                         failed = {{"upstream", "inventory"}, {"outcome", "failed"}},
                                                         puts = {{"method", "PUT"}};
  const double retried_before = metric_value("gateway", "gateway_retries_total", retried);
  const double failed_before = metric_value("gateway", "gateway_upstream_attempts_total", failed);
  const double puts_before = metric_value("inventory", "http_requests_total", puts);
  ASSERT_GT(pause_service("inventory"), 0);
  Res r_plain, r_keyed;
  std::thread a([&] {
    r_plain = put("/inventory/stock", R"({"product_id":)" + std::to_string(plain) + R"(,"quantity":1})");
  });
  std::thread b([&] {
    r_keyed = put("/inventory/stock", R"({"product_id":)" + std::to_string(keyed) + R"(,"quantity":1})",
                  {{"Idempotency-Key", new_key()}});
  });
  a.join();
  b.join();
  ASSERT_GT(resume_service("inventory"), 0);
  // Three failures in a window of successes open no breaker: each is the deadline's 504.
  EXPECT_TRUE(is_problem(r_plain, 504)) << "a take-out while inventory hung: " << r_plain;
  EXPECT_TRUE(is_problem(r_keyed, 504)) << "a take-out with a key while inventory hung: " << r_keyed;
  EXPECT_GE(metric_value("gateway", "gateway_retries_total", retried), retried_before + 1)
      << "the keyed take-out was not retried: the test would show nothing";
  // The woken service works through every copy that reached it (each attempt that timed
  // out) before the stock is read: a copy applied after the read would go unseen.
  const double copies = metric_value("gateway", "gateway_upstream_attempts_total", failed) - failed_before;
  EXPECT_GE(copies, 3) << "two take-outs, one of them retried: at least three copies reached the hung service";
  bool all_in = false;
  for (auto until = Clock::now() + 10s; !all_in && Clock::now() < until; std::this_thread::sleep_for(100ms)) {
    all_in = metric_value("inventory", "http_requests_total", puts) >= puts_before + copies;
  }
  ASSERT_TRUE(all_in) << "inventory did not count the " << copies << " copies within 10 s";
  auto readable = [&](std::int64_t id) {
    Res r = poll("/inventory/stock/" + std::to_string(id), answered, 30s);
    return r.status == 200 ? inventory_stock(id) : std::nullopt;
  };
  auto s_plain = readable(plain), s_keyed = readable(keyed);
  ASSERT_TRUE(s_plain && s_keyed);
  EXPECT_GE(*s_keyed, 9) << "one take-out of 1 with an Idempotency-Key took " << 10 - *s_keyed << " units";
  EXPECT_GE(*s_plain, 9) << "one PUT /inventory/stock of 1 without a key (answered " << r_plain.status << ") took "
                         << 10 - *s_plain << " units";

  // The same for POST /orders with an Idempotency-Key while the order service hangs.
  std::int64_t product = create_product(100, 10);
  std::string key = new_key();
  ASSERT_GT(pause_service("order"), 0);
  Res hung = place_order(customer_, {{product, 1}}, key);
  ASSERT_GT(resume_service("order"), 0);
  std::cout << "[ info ] while order hung: POST /orders with a key → " << hung.status << std::endl;
  std::this_thread::sleep_for(2s);
  Res again = place_order(customer_, {{product, 1}}, key);
  EXPECT_EQ(again.status, 201) << again;
  Res list = get("/orders?customer_id=" + std::to_string(customer_));
  EXPECT_EQ(int_of(list.at("total")), 1) << "one POST /orders with one Idempotency-Key made " << int_of(list.at("total"))
                                         << " orders: " << list;
  if (again.status == 201) {
    EXPECT_TRUE(has_status(wait_order(again.id(), {"CONFIRMED"}), "CONFIRMED"));
  }
}

// DESIGN §2: /health/ready checks the database. With PostgreSQL gone every service says not
// ready, naming its database; the gateway's /health says which upstreams are not; a request
// that needs the database is a 503 problem (try again), never a 500; and all come back.
TEST_F(Outage, WhilePostgreSqlIsDownServicesAreNotReadyAndAnswer503) {
  const std::int64_t product = create_product(100, 5);
  ASSERT_GT(crash_postgres(), 0) << "no PostgreSQL to crash";
  for (const auto& service : kAllServices) {
    if (service == "gateway") continue;  // it has no database; its /health is checked below
    // Until its relay notices the database gone (seconds), the broker check may still read up.
    Res r;
    for (auto until = Clock::now() + 30s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
      r = service_get(service, "/health/ready");
      if (r.status == 503 && member(r.at("checks"), "broker") != boost::json::value("up")) break;
    }
    EXPECT_EQ(r.status, 503) << service << ": " << r;
    EXPECT_EQ(member(r.at("checks"), "database"), boost::json::value("down")) << service << ": " << r;
    if (const auto& broker = member(r.at("checks"), "broker"); !broker.is_null()) {
      EXPECT_EQ(broker, boost::json::value("unknown")) << service << ": the broker is up, only the database is down: " << r;
    }
    EXPECT_EQ(r.str("status"), "not ready") << service << ": " << r;
  }
  Res health = get("/health");
  EXPECT_EQ(health.status, 503) << health;
  EXPECT_EQ(health.str("status"), "degraded") << health;
  EXPECT_EQ(member(health.at("upstreams"), "product"), boost::json::value("not ready")) << health;
  Res read = request("GET", "/customers/" + std::to_string(customer_), {}, {{"Cache-Control", "no-cache"}});
  EXPECT_TRUE(is_problem(read, 503)) << "a read with its database down: " << read;
  Res write = put("/products/" + std::to_string(product), R"({"price":2})");
  EXPECT_TRUE(is_problem(write, 503)) << "a write with its database down: " << write;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::string bad;
  EXPECT_TRUE(wait_ready(60s, kAllServices, &bad)) << "not ready after PostgreSQL came back:" << bad;
  // The gateway's breaker for a service may still be open for a moment; no-cache: read from
  // the product service's database, not from the gateway's copy.
  Res after;
  for (auto until = Clock::now() + 20s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    after = request("GET", "/products/" + std::to_string(product), {}, {{"Cache-Control", "no-cache"}});
    if (after.status == 200) break;
  }
  EXPECT_EQ(cents_of(after.at("price")), 100) << "the refused write changed nothing: " << after;
}

// DESIGN §1: a service starts even when PostgreSQL or RabbitMQ is not up yet, says it is
// alive and not ready meanwhile, and becomes ready once they are back. Shown on a second
// process started during each outage (./sales up starts the servers first).
void expect_alive_not_ready_then_ready(Replica& late, const char* check) {
  Res live;
  for (auto until = Clock::now() + 20s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    if ((live = get_at(late.url(), "/health/live")).status == 200) break;
  }
  EXPECT_EQ(live.status, 200) << "not serving its probes: " << live;
  Res ready = get_at(late.url(), "/health/ready");
  // Without the broker the database still comes up (migrations, the pool): until it is, the
  // broker check reads "unknown", since the relay and consumer need both.
  for (auto until = Clock::now() + 20s; std::string_view(check) == "broker" && Clock::now() < until &&
                                        member(ready.at("checks"), "database") != boost::json::value("up");
       std::this_thread::sleep_for(50ms)) {
    ready = get_at(late.url(), "/health/ready");
  }
  EXPECT_EQ(ready.status, 503) << ready;
  EXPECT_EQ(member(ready.at("checks"), check), boost::json::value("down")) << ready;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_TRUE(late.wait_ready(60s)) << "it did not become ready once the " << check << " was back";
}

TEST_F(Outage, AServiceStartedWhilePostgreSqlIsDownWaitsAndRecovers) {
  ASSERT_GT(crash_postgres(), 0) << "no PostgreSQL to crash";
  Replica late("product");
  expect_alive_not_ready_then_ready(late, "database");
}

TEST_F(Outage, AServiceStartedWhileRabbitMqIsDownWaitsAndRecovers) {
  CommandResult down = run_sales("down rabbitmq");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  Replica late("inventory");
  expect_alive_not_ready_then_ready(late, "broker");
}

TEST_F(Outage, OrdersPlacedWhileRabbitMqIsDownAreConfirmedAfterRestart) {
  std::int64_t product = create_product(100, 50);
  CommandResult down = run_sales("down rabbitmq");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  // Not ready as DESIGN §2 has it (database and broker), yet ready to take requests
  // (Kubernetes' readiness probe asks ?broker=optional): its database answers.
  Res plain;
  for (auto until = Clock::now() + 15s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    if ((plain = service_get("order", "/health/ready")).status == 503) break;
  }
  EXPECT_EQ(plain.status, 503) << plain;
  EXPECT_EQ(plain.at("checks").as_object().at("broker"), "down") << plain;
  Res serving = service_get("order", "/health/ready?broker=optional");
  EXPECT_EQ(serving.status, 200) << serving;
  EXPECT_EQ(serving.at("checks").as_object().at("broker"), "down") << serving;
  EXPECT_TRUE(is_problem(service_get("order", "/health/ready?broker=no"), 400));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    Res placed = place_order(customer_, {{product, 1}});
    EXPECT_EQ(placed.status, 201) << "the order service must accept orders without the broker (outbox): " << placed;
    if (placed.status == 201) ids.push_back(placed.id());
  }
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::string bad;
  EXPECT_TRUE(wait_ready(60s, kAllServices, &bad)) << "not ready after the broker came back:" << bad;
  for (auto id : ids) EXPECT_TRUE(has_status(wait_order(id, {"CONFIRMED", "REJECTED"}, 60s), "CONFIRMED"));
  EXPECT_EQ(wait_stock(product, 50 - static_cast<std::int64_t>(ids.size()), 20s), 50 - static_cast<std::int64_t>(ids.size()));
}

// A product created while its product.created cannot reach inventory (RabbitMQ down: the
// event waits in the product service's outbox; normally it is a few milliseconds) has no
// stock there yet. Inventory asks the product service and answers the product's creator
// 409 with Retry-After, not the 404 of an unknown product; once the event lands, the stock
// is the initial one and a restock goes through.
TEST_F(Outage, AProductCreatedBeforeInventoryHeardOfItIsAConflictToRetry) {
  CommandResult down = run_sales("down rabbitmq");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  const std::int64_t product = create_product(100, 4, /*wait_inventory=*/false);
  ASSERT_GT(product, 0);
  const std::string stock_path = "/inventory/stock/" + std::to_string(product);
  Res read = get(stock_path);
  Res adjust = post(stock_path + "/adjust", R"({"delta":2})");
  Res take = put("/inventory/stock", R"({"product_id":)" + std::to_string(product) + R"(,"quantity":1})");
  for (const Res* r : {&read, &adjust, &take}) {
    EXPECT_TRUE(is_problem(*r, 409)) << *r;
    EXPECT_NE(r->body.find("was created moments ago"), std::string::npos) << *r;
    EXPECT_EQ(r->header("Retry-After"), "1") << *r;
    EXPECT_EQ(r->str("type"), "urn:sales:problem:stock-not-ready") << "not the 409 of too little stock: " << *r;
  }
  EXPECT_TRUE(has_field_error(take, "product_id", 409)) << take;
  EXPECT_TRUE(is_problem(get("/inventory/stock/999999999"), 404)) << "an unknown product is still unknown";
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::string bad;
  EXPECT_TRUE(wait_ready(60s, kAllServices, &bad)) << "not ready after the broker came back:" << bad;
  EXPECT_EQ(wait_stock(product, 4, 30s), 4) << "the refused requests changed nothing";
  Res again = post(stock_path + "/adjust", R"({"delta":2})");
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(inventory_stock(product), 6);
}

// A payment confirmed while the order cannot hear of it yet (RabbitMQ down: payment.confirmed
// waits in the payment service's outbox; normally it is milliseconds): a shipment asked for
// at once is not refused as unpaid. The order asks the payment service, is PAID by that
// payment and SHIPPED; when the event comes after all, nothing changes (one payment, no
// refund, the order SHIPPED).
TEST_F(Outage, AShipmentAskedForRightAfterItsPaymentWasConfirmedShips) {
  std::int64_t product = create_product(300, 5);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  const auto sid = int_of(member(wait_shipment(order.id(), "PENDING"), "id"));
  Res created = post("/payments", R"({"order_id":)" + std::to_string(order.id()) + R"(,"amount":3.00})",
                     {{"Idempotency-Key", new_key()}});
  ASSERT_EQ(created.status, 201) << created;
  CommandResult down = run_sales("down rabbitmq");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  Res confirmed = put("/payments/" + std::to_string(created.id()) + "/confirm", "");
  ASSERT_EQ(confirmed.status, 200) << confirmed;
  EXPECT_EQ(order_status(order.id()), "CONFIRMED") << "the order cannot have heard of the payment yet";
  Res ship = ship_status(sid, "SHIPPED");
  EXPECT_EQ(ship.status, 200) << "the payment service's word pays the order: " << ship;
  EXPECT_EQ(ship.str("status"), "SHIPPED") << ship;
  Res shipped = wait_order(order.id(), {"SHIPPED"}, 5s);
  EXPECT_EQ(history_statuses(shipped), (std::vector<std::string>{"PENDING", "CONFIRMED", "PAID", "SHIPPED"})) << shipped;
  EXPECT_NE(history_reason(shipped, "PAID").value_or("").find("payment " + std::to_string(created.id())),
            std::string::npos)
      << shipped;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::string bad;
  EXPECT_TRUE(wait_ready(60s, kAllServices, &bad)) << "not ready after the broker came back:" << bad;
  // The late payment.confirmed (and order.paid, order.shipped) arrive: nothing moves back.
  for (auto until = Clock::now() + 20s; Clock::now() < until; std::this_thread::sleep_for(100ms)) {
    const auto paid = member(shipment_of(order.id()), "order_paid");
    if (queue_depth("order_queue") == 0 && queue_depth("shipping_queue") == 0 && paid.is_bool() && paid.as_bool()) break;
  }
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(order_status(order.id()), "SHIPPED");
  EXPECT_EQ(get("/payments/" + std::to_string(created.id())).str("status"), "CONFIRMED");
  EXPECT_EQ(str_of(member(shipment_of(order.id()), "status")), "SHIPPED");
}

// A refund made while the order cannot hear of it yet (RabbitMQ down: payment.refunded waits
// in the payment service's outbox) still ends the order (DESIGN §4.7): the shipment asked
// for after it is refused. When the broker is back, the order is CANCELLED, its shipment
// CANCELLED and its stock back.
TEST_F(Outage, ARefundMadeWhileRabbitMqIsDownStopsTheShipment) {
  std::int64_t product = create_product(700, 10);
  std::int64_t payment = 0;
  auto [order, sid] = paid_and_payable(customer_, product, &payment);
  ASSERT_GT(sid, 0);
  ASSERT_GT(payment, 0);
  CommandResult down = run_sales("down rabbitmq");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  const std::string id = std::to_string(order.id());
  Res refund = put("/payments/" + std::to_string(payment) + "/refund", "");
  ASSERT_EQ(refund.status, 200) << refund;
  EXPECT_EQ(order_status(order.id()), "PAID") << "the order cannot have heard of the refund yet";
  Res ship = ship_status(sid, "SHIPPED");
  EXPECT_TRUE(is_problem(ship, 409)) << "a refund answered before the shipment was asked for must stop it: " << ship;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_EQ(wait_order(order.id(), {"CANCELLED", "REFUNDED"}, 60s).str("status"), "CANCELLED");
  EXPECT_EQ(str_of(member(wait_shipment(order.id(), "CANCELLED"), "status")), "CANCELLED");
  EXPECT_EQ(wait_stock(product, 10, 20s), 10);
}

// The same outage seen by the payment service: the order service still says CONFIRMED (it
// has applied neither payment.confirmed nor payment.refunded), yet a refund ended the order,
// so a second payment, which would charge the customer twice, is refused.
TEST_F(Outage, NoSecondPaymentAfterARefundTheOrderHasNotHeardOf) {
  std::int64_t product = create_product(800, 10);
  Res order = confirmed_order(customer_, {{product, 1}});
  ASSERT_TRUE(has_status(order, "CONFIRMED"));
  CommandResult down = run_sales("down rabbitmq");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  const std::string body = R"({"order_id":)" + std::to_string(order.id()) + R"(,"amount":8.00})";
  Res first = post("/payments", body);
  ASSERT_EQ(first.status, 201) << first;
  const std::string payment = "/payments/" + std::to_string(first.id());
  ASSERT_EQ(put(payment + "/confirm", "").status, 200);
  ASSERT_EQ(put(payment + "/refund", "").status, 200);
  EXPECT_EQ(order_status(order.id()), "CONFIRMED") << "the order cannot have heard of either yet";
  Res again = post("/payments", body);
  EXPECT_TRUE(is_problem(again, 409)) << "a second payment after a refund: " << again;
  CommandResult up = sales_up();
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_EQ(wait_order(order.id(), {"CANCELLED", "REFUNDED"}, 60s).str("status"), "CANCELLED");
  EXPECT_EQ(wait_stock(product, 10, 20s), 10);
  EXPECT_EQ(payments_of(order.id()).size(), 1u);
}

}  // namespace
}  // namespace saga

// Edges of the contract the other saga tests leave out (DESIGN §2/§3): on every saga write
// route a non-JSON body is 415 and a hostile JSON body a 400 (413 over 1 MiB); a payment
// needs a CONFIRMED order whatever came after it, the order service's internal route stays
// internal, and the shipping and stock lists. Every refused request is followed by a
// re-read showing it changed nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sales_test/rfc3339.hpp"
#include "support/fixture.hpp"

namespace saga {
namespace {

// A GET whose list total is counted now, not a recent count (DESIGN §2 lists; total_cache.hpp).
Res edges_fresh_get(const std::string& target) { return request("GET", target, "", {{"Cache-Control", "no-cache"}}); }

std::int64_t edges_order_count(std::int64_t customer) {
  return int_of(edges_fresh_get("/orders?customer_id=" + std::to_string(customer)).at("total"));
}

// Lists are ordered by id: what a test just made is on the last page. `query` holds the
// filters ("" for none).
Res edges_last_page(const std::string& path, const std::string& query) {
  const std::string base = path + "?" + (query.empty() ? "" : query + "&");
  const std::int64_t total = int_of(edges_fresh_get(base + "limit=1").at("total"));
  return edges_fresh_get(base + "limit=500&offset=" + std::to_string(std::max<std::int64_t>(0, total - 500)));
}

boost::json::value edges_find(const Res& page, std::string_view key, std::int64_t id) {
  if (!page.at("items").is_array()) return nullptr;
  for (const auto& item : page.at("items").as_array()) {
    if (int_of(member(item, key)) == id) return item;
  }
  return nullptr;
}

std::string edges_payment_body(std::int64_t order_id, std::int64_t cents) {
  return R"({"order_id":)" + std::to_string(order_id) + R"(,"amount":)" + money(cents) + "}";
}

class ContractEdges : public SagaTest {};

// Every write route of the saga's resources, each with a body that would do something as
// application/json, and the state a refused request must leave as it was: two orders of
// the test's customer, one CONFIRMED (no payment, its shipment PENDING) and one PAID (one
// payment, its shipment PENDING and shippable now), and a stock of 8.
class EveryWriteRoute : public ContractEdges {
 protected:
  struct Case {
    const char* method;
    std::string target, body;
    std::vector<std::string> invalid;  // JSON bodies this route refuses with 400
  };

  void SetUp() override {
    ContractEdges::SetUp();
    product_ = create_product(250, 10);
    auto [paid, sid] = paid_and_payable(customer_, product_);
    ASSERT_GT(sid, 0) << paid;
    paid_ = paid.id();
    shipment_ = sid;
    Res order = confirmed_order(customer_, {{product_, 1}});
    ASSERT_TRUE(has_status(order, "CONFIRMED"));
    order_ = order.id();
    ASSERT_EQ(wait_stock(product_, 8), 8);
    ASSERT_FALSE(wait_shipment(order_, "PENDING").is_null());
    const std::string oid = std::to_string(order_), pid = std::to_string(product_), cid = std::to_string(customer_);
    const std::string line = R"({"customer_id":)" + cid + R"(,"items":[{"product_id":)" + pid + R"(,"quantity":)";
    cases_ = {
        {"POST", "/orders", order_body(customer_, {{product_, 1}}),
         {line + "1e400}]}", line + R"("1"}]})", line + "0}]}", line + "1.5}]}",
          R"({"customer_id":-1,"items":[{"product_id":)" + pid + R"(,"quantity":1}]})",
          R"({"customer_id":)" + cid + R"(,"items":{"product_id":)" + pid + R"(,"quantity":1}})"}},
        {"POST", "/orders/" + oid + "/cancel", R"({"reason":"sent as text"})",
         {R"({"reason":5})", R"({"reason":""})", R"({"reason":null,"why":"x"})"}},
        {"POST", "/payments", edges_payment_body(order_, 250),
         {R"({"order_id":)" + oid + R"(,"amount":"2.50"})", R"({"order_id":)" + oid + R"(,"amount":2.505})",
          R"({"order_id":)" + oid + R"(,"amount":1e400})", R"({"order_id":)" + oid + R"(,"amount":-2.50})",
          R"({"order_id":0,"amount":2.50})"}},
        {"POST", "/shipping", R"({"order_id":)" + oid + "}",
         {R"({"order_id":")" + oid + R"("})", R"({"order_id":1.5})", R"({"order_id":-1})"}},
        {"PUT", "/shipping/" + std::to_string(shipment_), R"({"status":"SHIPPED"})",
         {R"({"status":"SHIPPED!"})", R"({"status":1})", R"({"status":null})", R"({"status":["SHIPPED"]})"}},
        {"PUT", "/inventory/stock", R"({"product_id":)" + pid + R"(,"quantity":1})",
         {R"({"product_id":)" + pid + R"(,"quantity":-1})", R"({"product_id":)" + pid + R"(,"quantity":1.5})",
          R"({"product_id":"p","quantity":1})", R"({"product_id":)" + pid + R"(,"quantity":1e400})"}},
        {"POST", "/inventory/stock/" + pid + "/adjust", R"({"delta":5})",
         {R"({"delta":"5"})", R"({"delta":0.5})", R"({"delta":1e400})", R"({"delta":true})"}},
    };
  }

  // Nothing moved: no order, no payment, no second shipment, no stock change, no transition.
  void expect_nothing_moved() {
    EXPECT_EQ(edges_order_count(customer_), 2);
    EXPECT_EQ(order_status(order_), "CONFIRMED");
    EXPECT_EQ(order_status(paid_), "PAID");
    EXPECT_TRUE(payments_of(order_).empty());
    EXPECT_EQ(payments_of(paid_).size(), 1u);
    std::size_t shipments = 0;
    EXPECT_EQ(str_of(member(shipment_of(order_, &shipments), "status")), "PENDING");
    EXPECT_EQ(shipments, 1u);
    EXPECT_EQ(get("/shipping/" + std::to_string(shipment_)).str("status"), "PENDING");
    EXPECT_EQ(inventory_stock(product_), 8);
  }

  // The same bodies as JSON are taken: the refusals were about what was sent alone.
  void expect_the_valid_bodies_taken() {
    const std::string oid = std::to_string(order_), pid = std::to_string(product_);
    Res adjusted = post("/inventory/stock/" + pid + "/adjust", R"({"delta":5})");
    EXPECT_EQ(adjusted.status, 200) << adjusted;
    Res cancelled = post("/orders/" + oid + "/cancel", R"({"reason":"sent as text"})");
    EXPECT_TRUE(has_status(cancelled, "CANCELLED"));
    EXPECT_EQ(wait_stock(product_, 14), 14);
  }

  std::int64_t product_ = 0, paid_ = 0, order_ = 0, shipment_ = 0;
  std::vector<Case> cases_;
};

TEST_F(EveryWriteRoute, NonJsonBodiesAre415AndChangeNothing) {
  // The 415 is the only thing standing between each body and its effect.
  for (const auto& c : cases_) {
    for (const char* ct : {"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", ""}) {
      Res r = request(c.method, c.target, c.body, {{"Content-Type", ct}});
      EXPECT_TRUE(is_problem(r, 415)) << c.method << " " << c.target << " as '" << ct << "': " << r;
    }
  }
  expect_nothing_moved();
  expect_the_valid_bodies_taken();
}

// DESIGN §2: "Never a 500 for bad input", and a refused request changes nothing. Broken,
// non-object, invalid UTF-8, nested beyond the parser's depth, duplicated or unknown members,
// each route's wrong types and out-of-range values (400), and one byte over 1 MiB (413).
TEST_F(EveryWriteRoute, HostileJsonBodiesAreProblemsAndChangeNothing) {
  const std::string deep = R"({"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  for (const auto& c : cases_) {
    std::vector<std::string> bad = {"{", R"({"order_id":})", "[]", "null", R"("text")", "42",
                                    "{\"reason\":\"\xff\xfe\"}", deep,
                                    c.body.substr(0, c.body.size() - 1) + R"(,"evil":true})",
                                    c.body.substr(0, c.body.size() - 1) + "," + c.body.substr(1)};
    bad.insert(bad.end(), c.invalid.begin(), c.invalid.end());
    for (const auto& b : bad) {
      Res r = request(c.method, c.target, b, {{"Content-Type", "application/json"}});
      EXPECT_TRUE(is_problem(r, 400)) << c.method << " " << c.target << " " << b.substr(0, 120) << ": " << r;
    }
    std::string huge = c.body;
    huge.insert(1, std::string((1 << 20) + 1 - huge.size(), ' '));  // valid JSON, one byte too long
    Res r = request(c.method, c.target, huge, {{"Content-Type", "application/json"}});
    EXPECT_TRUE(is_problem(r, 413)) << c.method << " " << c.target << ": " << r;
  }
  expect_nothing_moved();
  expect_the_valid_bodies_taken();
}

// The write routes that take no body (a payment's confirm and refund): a body sent anyway
// is refused before anything happens, so a broken script cannot refund by accident; an
// empty JSON object, which clients that always send JSON send, is no body.
TEST_F(EveryWriteRoute, ABodyOnARouteThatTakesNoneIsRefusedAndChangesNothing) {
  auto ps = payments_of(paid_);
  ASSERT_EQ(ps.size(), 1u);
  const std::string payment = "/payments/" + std::to_string(int_of(member(ps[0], "id")));
  for (const char* action : {"/refund", "/confirm"}) {
    for (const char* b : {"garbage", "{not json", R"({"reason":"x"})", "null", "[]", "{}{}"}) {
      Res r = request("PUT", payment + action, b, {{"Content-Type", "application/json"}});
      EXPECT_TRUE(is_problem(r, 400)) << action << " " << b << ": " << r;
    }
    Res r = request("PUT", payment + action, "refund", {{"Content-Type", "text/plain"}});
    EXPECT_TRUE(is_problem(r, 415)) << action << ": " << r;
  }
  EXPECT_EQ(str_of(member(payments_of(paid_)[0], "status")), "CONFIRMED");
  expect_nothing_moved();
  Res refunded = request("PUT", payment + "/refund", " { } ", {{"Content-Type", "application/json"}});
  EXPECT_EQ(refunded.status, 200) << refunded;
  EXPECT_TRUE(has_status(wait_order(paid_, {"CANCELLED"}), "CANCELLED"));
}

TEST_F(ContractEdges, PaymentForAShippedDeliveredOrRefundedOrderIs409AndStoresNoPayment) {
  const std::int64_t product = create_product(640, 5);
  std::int64_t payment = 0;
  auto [order, sid] = paid_and_payable(customer_, product, &payment);
  ASSERT_GT(sid, 0) << order;
  ASSERT_GT(payment, 0);
  const std::int64_t oid = order.id();
  const std::string body = edges_payment_body(oid, cents_of(order.at("total")));
  // The exact total, with a fresh key each time: only the order's status can refuse it.
  auto refused_in = [&](const char* state) {
    Res r = post("/payments", body, {{"Idempotency-Key", new_key()}});
    EXPECT_TRUE(is_problem(r, 409)) << "a payment for a " << state << " order: " << r;
    auto ps = payments_of(oid);
    ASSERT_EQ(ps.size(), 1u) << "a refused payment was stored for a " << state << " order";
    EXPECT_EQ(int_of(member(ps[0], "id")), payment);
    EXPECT_EQ(order_status(oid), state);
  };
  ASSERT_EQ(ship_status(sid, "SHIPPED", 10s).status, 200);
  ASSERT_TRUE(has_status(wait_order(order.id(), {"SHIPPED"}), "SHIPPED"));
  refused_in("SHIPPED");
  ASSERT_EQ(ship_status(sid, "DELIVERED").status, 200);
  ASSERT_TRUE(has_status(wait_order(order.id(), {"DELIVERED"}), "DELIVERED"));
  refused_in("DELIVERED");
  Res refund = put("/payments/" + std::to_string(payment) + "/refund", "");
  ASSERT_EQ(refund.status, 200) << refund;
  ASSERT_TRUE(has_status(wait_order(order.id(), {"REFUNDED"}), "REFUNDED"));
  // No live payment is left: only the status (and the store's refusal after a refund) stops it.
  refused_in("REFUNDED");
  auto ps = payments_of(order.id());
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(str_of(member(ps[0], "status")), "REFUNDED");
}

TEST_F(ContractEdges, TheOrderServicesInternalShipRouteIsNotReachableThroughTheGateway) {
  const std::int64_t product = create_product(120, 5);
  auto [paid, sid] = paid_and_payable(customer_, product);  // PAID: the internal call would ship it
  ASSERT_GT(sid, 0) << paid;
  const std::string id = std::to_string(paid.id());
  Res before = get("/orders/" + id);
  ASSERT_TRUE(has_status(before, "PAID"));
  // The plain path and spellings a path-normalising proxy might turn into it. A 404 alone
  // proves little (the order service would say 404 for an unknown id too): the order must
  // also stay as it was.
  for (const std::string& target :
       {"/internal/orders/" + id + "/ship", "//internal/orders/" + id + "/ship", "/%69nternal/orders/" + id + "/ship",
        "/orders/../internal/orders/" + id + "/ship", "/orders/%2e%2e/internal/orders/" + id + "/ship"}) {
    for (const char* body : {"", R"({"reason":"through the gateway"})"}) {
      Res r = post(target, body);
      EXPECT_TRUE(is_problem(r, 404)) << "POST " << target << " " << body << ": " << r;
    }
  }
  Res after = get("/orders/" + id);
  EXPECT_TRUE(has_status(after, "PAID"));
  EXPECT_EQ(history_statuses(after), history_statuses(before));
  EXPECT_EQ(after.str("updated_at"), before.str("updated_at"));
  EXPECT_EQ(get("/shipping/" + std::to_string(sid)).str("status"), "PENDING");
  // The route is real: the same call straight to the order service ships the order, so
  // the 404s above were the gateway's refusal, not a missing route.
  Res direct = service_request("order", "POST", "/internal/orders/" + id + "/ship");
  ASSERT_EQ(direct.status, 200) << direct;
  EXPECT_EQ(direct.str("status"), "SHIPPED");
  EXPECT_EQ(str_of(member(wait_shipment(paid.id(), "SHIPPED"), "status")), "SHIPPED");
}

TEST_F(ContractEdges, ShippingStatusFilterAloneReturnsOnlyThatStatus) {
  const std::int64_t product = create_product(100, 5);
  Res pending = confirmed_order(customer_, {{product, 1}});
  Res other = confirmed_order(customer_, {{product, 1}});
  ASSERT_EQ(post("/orders/" + std::to_string(other.id()) + "/cancel", "").status, 200);
  const auto p = wait_shipment(pending.id(), "PENDING");
  const auto c = wait_shipment(other.id(), "CANCELLED");
  ASSERT_EQ(str_of(member(p, "status")), "PENDING");
  ASSERT_EQ(str_of(member(c, "status")), "CANCELLED");
  for (const char* status : {"PENDING", "CANCELLED"}) {
    // The first page and the last (where the shipments just made are).
    for (const Res& page : {edges_fresh_get(std::string("/shipping?status=") + status + "&limit=500"),
                            edges_last_page("/shipping", std::string("status=") + status)}) {
      ASSERT_EQ(page.status, 200) << page;
      ASSERT_TRUE(page.at("items").is_array()) << page;
      EXPECT_FALSE(page.at("items").as_array().empty()) << page;
      for (const auto& s : page.at("items").as_array()) {
        EXPECT_EQ(str_of(member(s, "status")), status) << boost::json::serialize(s);
      }
    }
    Res last = edges_last_page("/shipping", std::string("status=") + status);
    const auto& mine = std::string(status) == "PENDING" ? p : c;
    const auto& theirs = std::string(status) == "PENDING" ? c : p;
    EXPECT_FALSE(edges_find(last, "id", int_of(member(mine, "id"))).is_null()) << status << " lacks its shipment";
    EXPECT_TRUE(edges_find(last, "id", int_of(member(theirs, "id"))).is_null()) << status << " holds another status";
  }
}

// Status words in any case, on every resource that has them: a back office that lowercases
// them in its URLs gets the same answers from orders, payments and shipping.
TEST_F(ContractEdges, StatusWordsAreTakenInAnyCaseOnEveryResource) {
  for (const char* target : {"/orders?status=confirmed&limit=1", "/payments?status=Pending&limit=1",
                             "/shipping?status=cancelled&limit=1"}) {
    Res r = get(target);
    EXPECT_EQ(r.status, 200) << target << " " << r;
  }
  const std::int64_t product = create_product(100, 5);
  auto [paid, shipment] = paid_and_payable(customer_, product);
  Res shipped = put("/shipping/" + std::to_string(shipment), R"({"status":"shipped"})");
  EXPECT_EQ(shipped.status, 200) << shipped;
  EXPECT_EQ(shipped.str("status"), "SHIPPED") << shipped;
}

// Every order gets a shipment: a customer without an address cannot order (409 on
// customer_id, the customer's state), and nothing is placed, reserved or shipped.
TEST_F(ContractEdges, ACustomerWithoutAnAddressCannotOrder) {
  Res nowhere = post("/customers", R"({"name":"No Address"})");
  ASSERT_EQ(nowhere.status, 201) << nowhere;
  const std::int64_t product = create_product(100, 5);
  Res refused = place_order(nowhere.id(), {{product, 1}});
  EXPECT_TRUE(has_field_error(refused, "customer_id", 409)) << refused;
  EXPECT_NE(refused.body.find("has no address to ship to"), std::string::npos) << refused;
  Res list = get("/orders?customer_id=" + std::to_string(nowhere.id()));
  EXPECT_EQ(int_of(list.at("total")), 0) << list;
  EXPECT_EQ(inventory_stock(product), 5);
}

TEST_F(ContractEdges, StockListItemsCarryProductIdStockAndUpdatedAt) {
  const std::int64_t product = create_product(100, 7);
  Res adjusted = post("/inventory/stock/" + std::to_string(product) + "/adjust", R"({"delta":3})");
  ASSERT_EQ(adjusted.status, 200) << adjusted;
  Res one = get("/inventory/stock/" + std::to_string(product));
  ASSERT_EQ(one.status, 200) << one;
  Res page = edges_last_page("/inventory/stock", "");
  ASSERT_EQ(page.status, 200) << page;
  const auto item = edges_find(page, "product_id", product);
  ASSERT_FALSE(item.is_null()) << "product " << product << " is not on the stock list's last page: " << page;
  EXPECT_TRUE(member(item, "product_id").is_int64()) << boost::json::serialize(item);
  EXPECT_TRUE(member(item, "stock").is_int64()) << boost::json::serialize(item);
  EXPECT_EQ(int_of(member(item, "stock")), 10) << boost::json::serialize(item);
  const std::string updated = str_of(member(item, "updated_at"));
  EXPECT_TRUE(sales_test::is_rfc3339_utc(updated)) << boost::json::serialize(item);
  // The same row as the item endpoint and the adjustment's answer: the adjusted one.
  EXPECT_EQ(updated, one.str("updated_at"));
  EXPECT_EQ(updated, adjusted.str("updated_at"));
  // Every item has the shape, not only ours.
  for (const auto& s : page.at("items").as_array()) {
    EXPECT_GT(int_of(member(s, "product_id")), 0) << boost::json::serialize(s);
    EXPECT_GE(int_of(member(s, "stock")), 0) << boost::json::serialize(s);
    EXPECT_TRUE(sales_test::is_rfc3339_utc(str_of(member(s, "updated_at")))) << boost::json::serialize(s);
  }
}

}  // namespace
}  // namespace saga

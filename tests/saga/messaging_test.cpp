// The messaging rules of DESIGN §4 as seen on the broker: a private queue bound to the
// sales.events exchange watches one order's events go by. Each is an envelope {id (uuid),
// type = routing key, occurred_at (RFC 3339 UTC), correlation_id "order-<id>", data}, money
// is written with two decimals, and the request's X-Request-Id and W3C trace id travel from
// the gateway into the events, and from event to event across services.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "sales/amqp/connection.hpp"
#include "sales/events/envelope.hpp"
#include "sales_test/env.hpp"
#include "support/fixture.hpp"
#include "support/system.hpp"

namespace saga {
namespace {

class Messaging : public SagaTest {};

// DESIGN §4 as the broker holds it: a durable topic exchange; each service's queue durable,
// bound to it, and dead-lettering to its own durable <queue>.dlq.
TEST_F(Messaging, TheTopologyIsDurableWithADeadLetterQueuePerQueue) {
  Res exchange = broker_management_get("/api/exchanges/%2F/sales.events");
  ASSERT_EQ(exchange.status, 200) << exchange;
  EXPECT_EQ(exchange.str("type"), "topic") << exchange;
  EXPECT_EQ(exchange.at("durable"), boost::json::value(true)) << exchange;
  EXPECT_EQ(exchange.at("auto_delete"), boost::json::value(false)) << exchange;
  // Each queue bound by exactly the event types its consumer handles (docs/saga.md, "Events"),
  // written out here rather than read from the code's table: a wildcard or a missing key
  // would deliver too much or too little.
  const std::map<std::string, std::set<std::string>> keys = {
      {"inventory_queue", {"order.created", "order.cancelled", "product.created", "product.deleted"}},
      {"shipping_queue", {"order.created", "order.rejected", "order.paid", "order.shipped", "order.cancelled"}},
      {"order_queue",
       {"inventory.reserved", "inventory.rejected", "payment.confirmed", "payment.refunded", "shipment.shipped",
        "shipment.delivered"}},
      {"payment_queue", {"order.cancelled"}},
      {"product_queue", {"inventory.stock_changed"}},
  };
  for (const auto& [queue, wanted] : keys) {
    SCOPED_TRACE(queue);
    Res q = broker_management_get("/api/queues/%2F/" + queue);
    ASSERT_EQ(q.status, 200) << q;
    EXPECT_EQ(q.at("durable"), boost::json::value(true)) << q;
    EXPECT_EQ(q.at("auto_delete"), boost::json::value(false)) << q;
    EXPECT_EQ(q.at("exclusive"), boost::json::value(false)) << q;
    const std::string dlx = str_of(member(q.at("arguments"), "x-dead-letter-exchange"));
    ASSERT_FALSE(dlx.empty()) << "no dead-letter exchange: " << q;
    // Dead-lettered under the queue's name: with the event type as its key the direct
    // dead-letter exchange would route it nowhere.
    EXPECT_EQ(str_of(member(q.at("arguments"), "x-dead-letter-routing-key")), queue) << q;
    Res dead_letter_exchange = broker_management_get("/api/exchanges/%2F/" + dlx);
    EXPECT_EQ(dead_letter_exchange.at("durable"), boost::json::value(true)) << dead_letter_exchange;
    Res bound = broker_management_get("/api/queues/%2F/" + queue + "/bindings");
    ASSERT_TRUE(bound.json.is_array()) << bound;
    std::set<std::string> from_events;
    for (const auto& b : bound.json.as_array()) {
      if (str_of(member(b, "source")) == "sales.events") from_events.insert(str_of(member(b, "routing_key")));
    }
    EXPECT_EQ(from_events, wanted) << "its bindings from sales.events: " << bound;
    Res dlq = broker_management_get("/api/queues/%2F/" + queue + ".dlq");
    ASSERT_EQ(dlq.status, 200) << dlq;
    EXPECT_EQ(dlq.at("durable"), boost::json::value(true)) << dlq;
    Res dead_letters = broker_management_get("/api/queues/%2F/" + queue + ".dlq/bindings");
    ASSERT_TRUE(dead_letters.json.is_array()) << dead_letters;
    EXPECT_TRUE(std::any_of(dead_letters.json.as_array().begin(), dead_letters.json.as_array().end(),
                            [&](const boost::json::value& b) {
                              return str_of(member(b, "source")) == dlx && str_of(member(b, "routing_key")) == queue;
                            }))
        << "what " << queue << " dead-letters does not reach " << queue << ".dlq: " << dead_letters;
  }
}

TEST_F(Messaging, EventsAreEnvelopesCarryingTheCorrelationAndTrace) {
  std::int64_t product = create_product(1010, 5);
  const std::string queue = "saga-test-watch-" + sales_test::unique_suffix();
  sales::amqp::Connection c(broker_params());
  c.connect();
  // Not durable: gone with the broker if this test dies before deleting it.
  c.declare_queue(queue, sales::amqp::QueueOptions{.durable = false});
  struct Deleter {
    sales::amqp::Connection& c;
    std::string q;
    ~Deleter() {
      try {
        c.delete_queue(q);
      } catch (...) {
      }
    }
  } deleter{c, queue};
  for (const char* key : {"order.*", "inventory.*"}) c.bind_queue(queue, "sales.events", key);
  c.consume(queue, 200);

  const std::string request_id = "saga-" + sales_test::unique_suffix();
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e" + std::string("4736");
  const std::string traceparent = "00-" + trace_id + "-00f067aa0ba902b7-01";
  boost::json::object body{{"customer_id", customer_},
                           {"items", boost::json::array{boost::json::object{{"product_id", product}, {"quantity", 3}}}}};
  Res placed = post("/orders", boost::json::serialize(body), {{"X-Request-Id", request_id}, {"traceparent", traceparent}});
  ASSERT_EQ(placed.status, 201) << placed;
  EXPECT_EQ(placed.header("X-Request-Id"), request_id);
  ASSERT_TRUE(has_status(wait_order(placed.id(), {"CONFIRMED"}), "CONFIRMED"));
  const std::string correlation = "order-" + std::to_string(placed.id());

  // Collect this order's events (others' events on the exchange are skipped).
  std::map<std::string, sales::amqp::Delivery> seen;
  auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && !(seen.contains("order.created") && seen.contains("inventory.reserved") &&
                                      seen.contains("order.confirmed"))) {
    auto d = c.next_delivery(500ms);
    if (!d) continue;
    c.ack(d->delivery_tag);
    if (d->body.find(correlation + "\"") == std::string::npos) continue;
    if (d->routing_key == "order.created" || d->routing_key == "inventory.reserved" || d->routing_key == "order.confirmed") {
      seen[d->routing_key] = *d;
    }
  }
  for (const char* type : {"order.created", "inventory.reserved", "order.confirmed"}) {
    ASSERT_TRUE(seen.contains(type)) << "no " << type << " with correlation_id " << correlation << " within 10 s";
  }

  static const std::regex rfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$)");
  for (const auto& [type, d] : seen) {
    SCOPED_TRACE(type + ": " + d.body);
    sales::events::Envelope e;
    try {
      e = sales::events::parse(d.body);
    } catch (const std::exception& ex) {
      ADD_FAILURE() << type << " is not a valid envelope: " << ex.what();
      continue;
    }
    EXPECT_TRUE(sales::events::is_uuid(e.id)) << e.id;
    EXPECT_EQ(e.type, type) << "the routing key is the event type";
    EXPECT_EQ(d.message_id, e.id) << "the AMQP message id is the event id";
    EXPECT_TRUE(d.persistent) << type << " was published transient: a broker restart would lose it";
    EXPECT_TRUE(std::regex_match(e.occurred_at, rfc3339)) << e.occurred_at;
    EXPECT_EQ(e.correlation_id, correlation);
    EXPECT_EQ(int_of(member(boost::json::value(e.data), "order_id")), placed.id());
    // The trace of the client's request travels into every event of the saga.
    auto tp = d.header_string("traceparent").value_or("");
    EXPECT_NE(tp.find(trace_id), std::string::npos)
        << type << " carries traceparent '" << tp << "', not one of the request's trace " << trace_id;
    EXPECT_EQ(d.header_string("x-request-id").value_or(""), request_id) << type << " lost the request id";
  }
  // Each later request starts its own trace; its events carry that one.
  auto trace_of_step = [&](const std::string& tid, const std::vector<std::string>& types,
                           const std::function<Res(const Headers&)>& step) {
    std::string tp = "00-" + tid + "-00f067aa0ba902b7-01";
    Res r = step({{"traceparent", tp}});
    ASSERT_TRUE(r.ok()) << r;
    std::map<std::string, std::string> got;  // type -> traceparent
    auto until = Clock::now() + 10s;
    while (Clock::now() < until && got.size() < types.size()) {
      auto d = c.next_delivery(500ms);
      if (!d) continue;
      c.ack(d->delivery_tag);
      if (d->body.find(correlation + "\"") == std::string::npos) continue;
      if (std::find(types.begin(), types.end(), d->routing_key) == types.end()) continue;
      got[d->routing_key] = d->header_string("traceparent").value_or("");
    }
    for (const auto& t : types) {
      ASSERT_TRUE(got.contains(t)) << "no " << t << " for " << correlation << " within 10 s";
      EXPECT_NE(got[t].find(tid), std::string::npos)
          << t << " carries traceparent '" << got[t] << "', not one of its request's trace " << tid;
    }
  };
  for (const char* key : {"payment.*", "shipment.*"}) c.bind_queue(queue, "sales.events", key);
  Res p = post("/payments", R"({"order_id":)" + std::to_string(placed.id()) + R"(,"amount":30.30})");
  ASSERT_EQ(p.status, 201) << p;
  trace_of_step("0af7651916cd43dd8448eb211c80319c", {"payment.confirmed", "order.paid"}, [&](const Headers& h) {
    return put("/payments/" + std::to_string(p.id()) + "/confirm", "", h);
  });
  auto shipment = wait_shipment(placed.id(), "PENDING");
  Res payable = poll("/shipping/" + std::to_string(int_of(member(shipment, "id"))),
                     [](const Res& r) { return r.at("order_paid").is_bool() && r.at("order_paid").as_bool(); }, 10s);
  trace_of_step("b7ad6b7169203331b7ad6b7169203331", {"shipment.shipped"}, [&](const Headers& h) {
    return put("/shipping/" + std::to_string(int_of(member(shipment, "id"))), R"({"status":"SHIPPED"})", h);
  });

  const auto& created = seen["order.created"].body;
  EXPECT_NE(created.find("\"total\":30.30"), std::string::npos) << "money with two decimals: " << created;
  EXPECT_NE(created.find("\"unit_price\":10.10"), std::string::npos) << created;
  EXPECT_NE(created.find("\"customer_id\":" + std::to_string(customer_)), std::string::npos) << created;
  EXPECT_NE(created.find("\"shipping_address\""), std::string::npos) << created;
  const auto& reserved = seen["inventory.reserved"].body;
  EXPECT_NE(reserved.find("\"product_id\":" + std::to_string(product)), std::string::npos) << reserved;
}

}  // namespace
}  // namespace saga

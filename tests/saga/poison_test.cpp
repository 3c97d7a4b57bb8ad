// POISON: a malformed message with routing key order.created, published straight to the
// sales.events exchange, must end in inventory_queue.dlq and shipping_queue.dlq, be counted
// by each service's sales_events_dead_lettered_total, and never block the queue: a good
// order placed right behind it is confirmed meanwhile.
//
// The DLQs are left as they were: the test removes exactly the messages it published
// (recognised by a unique marker) and returns every other dead letter to its queue, so
// real dead letters stay there for operators.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sales/amqp/connection.hpp"
#include "sales/events/envelope.hpp"
#include "sales_test/env.hpp"
#include "support/fixture.hpp"
#include "support/system.hpp"

namespace saga {
namespace {

// Takes our own messages (body contains `marker`) out of `queue`; every other message goes
// back (it is never acknowledged, and closing the channel requeues it). Returns how many were removed.
int remove_marked(const std::string& queue, const std::string& marker, int expected) {
  int removed = 0;
  try {
    sales::amqp::Connection c(broker_params());
    c.connect();
    c.consume(queue, 2000);
    auto deadline = Clock::now() + 10s;
    while (removed < expected && Clock::now() < deadline) {
      auto d = c.next_delivery(1000ms);
      if (!d) break;
      if (d->body.find(marker) != std::string::npos) {
        c.ack(d->delivery_tag);
        ++removed;
      }
    }
    c.close();
  } catch (const std::exception& e) {
    std::cout << "[ warn ] could not clean " << queue << ": " << e.what() << "\n";
  }
  return removed;
}

class Poison : public SagaTest {};

TEST_F(Poison, MalformedOrderCreatedGoesToTheDlqsAndTheQueueKeepsFlowing) {
  const std::string marker = "saga-poison-" + sales_test::unique_suffix();
  const std::vector<std::pair<std::string, std::string>> queues = {{"inventory_queue", "inventory"},
                                                                    {"shipping_queue", "shipping"}};
  std::map<std::string, long> dlq_before;
  std::map<std::string, double> metric_before, poison_before;
  for (const auto& [q, svc] : queues) {
    dlq_before[q] = queue_depth(q + ".dlq");
    ASSERT_GE(dlq_before[q], 0) << "cannot read " << q << ".dlq (passive declare)";
    metric_before[q] = metric_value(svc, "sales_events_dead_lettered_total", {{"queue", q}});
    ASSERT_GE(metric_before[q], 0) << "cannot read the metrics of " << svc;
    poison_before[q] = metric_value(svc, "sales_events_dead_lettered_total", {{"queue", q}, {"reason", "poison"}});
  }

  // The good order's product exists before the poison is published, so that its order.created
  // queues behind the poison messages.
  std::int64_t product = create_product(100, 3);
  ASSERT_EQ(wait_stock(product, 3), 3);

  // 1. not JSON; 2. JSON but not an envelope; 3. an envelope whose data cannot be applied.
  std::vector<std::string> bodies = {
      "this is not json " + marker,
      R"({"marker":")" + marker + R"(","hello":"world"})",
      sales::events::serialize(sales::events::new_uuid(), "order.created", sales::events::now_rfc3339(), marker,
                               R"({"marker":")" + marker + R"("})"),
  };
  {
    sales::amqp::Connection c(broker_params());
    c.connect();
    for (const auto& body : bodies) {
      sales::amqp::OutgoingMessage m;
      m.exchange = "sales.events";
      m.routing_key = "order.created";
      m.type = "order.created";
      m.message_id = sales::events::new_uuid();
      m.body = body;
      c.publish(m);
    }
    c.wait_for_confirms(5000ms);
    c.close();
  }

  // The queues keep flowing while the poison is handled, not only once it rests in the DLQs:
  // an order placed right behind it is reserved and gets its shipment.
  Res order = confirmed_order(customer_, {{product, 1}});
  EXPECT_TRUE(has_status(order, "CONFIRMED"));
  EXPECT_EQ(str_of(member(wait_shipment(order.id(), "PENDING"), "status")), "PENDING");
  EXPECT_EQ(inventory_stock(product), 2);

  // All three end in each DLQ: the first two at once (poison), the third at once or after
  // its bounded retries (exhausted). The wait bounds the retry schedule (0.2+0.4+0.8+1.6 s).
  const int n = static_cast<int>(bodies.size());
  for (const auto& [q, svc] : queues) {
    auto deadline = Clock::now() + 40s;
    long depth = queue_depth(q + ".dlq");
    while (depth < dlq_before[q] + n && Clock::now() < deadline) {
      std::this_thread::sleep_for(250ms);
      depth = queue_depth(q + ".dlq");
    }
    EXPECT_GE(depth, dlq_before[q] + n) << q << ".dlq holds " << depth << " messages, " << dlq_before[q]
                                        << " before the " << n << " poison messages";
    double metric = metric_value(svc, "sales_events_dead_lettered_total", {{"queue", q}});
    EXPECT_GE(metric, metric_before[q] + n) << svc << "'s sales_events_dead_lettered_total{queue=\"" << q
                                            << "\"} went from " << metric_before[q] << " to " << metric;
    EXPECT_GE(metric_value(svc, "sales_events_dead_lettered_total", {{"queue", q}, {"reason", "poison"}}),
              poison_before[q] + 2)
        << "the two malformed bodies count as reason=\"poison\" in " << svc;
  }

  for (const auto& [q, svc] : queues) {
    int removed = remove_marked(q + ".dlq", marker, n);
    EXPECT_EQ(removed, n) << "the test's own messages were not all found in " << q << ".dlq";
  }
}

}  // namespace
}  // namespace saga

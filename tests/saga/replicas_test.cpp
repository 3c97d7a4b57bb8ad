// DESIGN §6: services scale out; consumers compete on their queues. A second process of
// each saga service runs beside the first, as a second pod would: the same database, the
// same queue, another port. Orders placed meanwhile are each reserved, confirmed, shipped
// once; both processes of each service took part; and the invariant checker (TearDown)
// finds every stock movement, payment and shipment exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"
#include "support/replica.hpp"

namespace saga {
namespace {

class Replicas : public SagaTest {};

TEST_F(Replicas, SecondProcessesShareQueuesAndOutboxesAndEveryOrderIsHandledOnce) {
  const std::vector<std::string> services = {"inventory", "order", "shipping", "payment"};
  std::vector<std::unique_ptr<Replica>> replicas;
  for (const auto& s : services) {
    replicas.push_back(std::make_unique<Replica>(s));
    ASSERT_TRUE(replicas.back()->wait_ready(30s)) << "the second " << s << " process did not become ready";
    // Ready means its database and broker answer; its outbox relay runs beside the first's.
    EXPECT_EQ(metric_value_at(replicas.back()->url(), "sales_outbox_relay_connected"), 1) << s;
  }
  auto consumed = [&](std::size_t i, bool second) {
    const std::vector<std::pair<std::string, std::string>> labels = {{"queue", services[i] + "_queue"}};
    return second ? metric_value_at(replicas[i]->url(), "sales_events_consumed_total", labels)
                  : metric_value(services[i], "sales_events_consumed_total", labels);
  };
  std::vector<double> first_before, second_before;
  for (std::size_t i = 0; i < services.size(); ++i) {
    first_before.push_back(consumed(i, false));
    second_before.push_back(consumed(i, true));
  }

  constexpr int kOrders = 24;
  const std::int64_t product = create_product(250, kOrders + 6);
  ASSERT_GT(product, 0);
  std::vector<std::int64_t> ids(kOrders);
  {
    std::vector<std::jthread> placing;
    for (int w = 0; w < 4; ++w) {
      placing.emplace_back([&, w] {
        for (int i = w; i < kOrders; i += 4) ids[static_cast<std::size_t>(i)] = place_order(customer_, {{product, 1}}).id();
      });
    }
  }
  for (auto id : ids) {
    ASSERT_GT(id, 0) << "an order was refused";
    EXPECT_TRUE(has_status(wait_order(id, {"CONFIRMED", "REJECTED"}, 30s), "CONFIRMED")) << id;
  }
  EXPECT_EQ(wait_stock(product, 6, 15s), 6) << "each order reserved once";
  for (auto id : ids) {
    EXPECT_EQ(str_of(member(wait_shipment(id, "PENDING"), "status")), "PENDING") << "order " << id;
    std::size_t count = 0;
    shipment_of(id, &count);
    EXPECT_EQ(count, 1u) << "order " << id << " has " << count << " shipments";
  }
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (services[i] == "payment") continue;  // no payment events in this flow
    EXPECT_GT(consumed(i, false), first_before[i]) << "the first " << services[i] << " consumed nothing";
    EXPECT_GT(consumed(i, true), second_before[i]) << "the second " << services[i] << " consumed nothing";
  }
}

}  // namespace
}  // namespace saga

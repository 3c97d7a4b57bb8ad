// DESIGN §6: services scale out; consumers compete on their queues. A second process of
// each saga service runs beside the first, as a second pod would: the same database, the
// same queue, another port. Orders placed meanwhile are each reserved, confirmed, shipped
// once; both processes of each service took part; and the invariant checker (TearDown)
// finds every stock movement, payment and shipment exactly once. Two gateways in front of
// one system, as the gateway's 2-10 pods are (docs/deploy.md): a client may reach either.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
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

// A second gateway with settings of its own, as another pod could have: a rate limit of 12
// requests a minute per client, and a response cache that keeps an answer for up to its
// max-age (1 s) instead of 500 ms. Each gateway keeps its own limiter, response cache and
// breakers; the services behind them are shared.
TEST_F(Replicas, TwoGatewaysServeOneSystem) {
  Replica second("gateway", {{"GATEWAY_RATE_LIMIT_MAX", "12"},
                             {"GATEWAY_RATE_LIMIT_WINDOW_MS", "60000"},
                             {"GATEWAY_CACHE_MAX_TTL_MS", "1000"}});
  ASSERT_TRUE(second.wait_ready(30s)) << "the second gateway did not become ready";
  const std::string first = sales_test::gateway_url();
  const std::string other = second.url();

  // Its /health sees the same six services ready (not rate limited).
  const Res health = get_at(other, "/health");
  ASSERT_EQ(health.status, 200) << health;
  for (const char* s : {"product", "order", "customer", "payment", "inventory", "shipping"}) {
    EXPECT_EQ(str_of(member(health.at("upstreams"), s)), "ready") << s << ": " << health;
  }

  // A client whose POST went through one gateway and who retries through the other gets
  // the same order: the key is kept by the order service, not by a gateway (1 request).
  const std::int64_t product = create_product(1250, 5);
  ASSERT_GT(product, 0);
  const std::string key = new_key();
  const std::string body = order_body(customer_, {{product, 2}});
  const Res placed = request_at(other, "POST", "/orders", body, {{"Idempotency-Key", key}});
  ASSERT_EQ(placed.status, 201) << placed;
  const Res retried = request_at(first, "POST", "/orders", body, {{"Idempotency-Key", key}});
  EXPECT_EQ(retried.status, 201) << retried;
  EXPECT_EQ(retried.id(), placed.id()) << "one order for one key, whichever gateway answered";
  EXPECT_TRUE(has_status(wait_order(placed.id(), {"CONFIRMED", "REJECTED"}), "CONFIRMED"));
  EXPECT_EQ(wait_stock(product, 3), 3) << "one reservation";

  // Both gateways hold the product in their caches (at most 3 requests to the second: a
  // stalled test thread may outwait an entry). A price change written through the first
  // shows there at once; the second serves its stored copy until that expires, and never
  // an old price fetched afresh (at most 6 more requests).
  const std::string path = "/products/" + std::to_string(product);
  auto is_hit = [](const Res& r) { return r.header("Cache-Status").find("hit") != std::string::npos; };
  auto cached_at = [&](const std::string& gateway) {
    Res r;
    for (int i = 0; i < 3 && !is_hit(r); ++i) r = get_at(gateway, path);
    return r;
  };
  for (const auto& gateway : {first, other}) {
    const Res cached = cached_at(gateway);
    EXPECT_TRUE(is_hit(cached)) << gateway << " did not cache the product: " << cached;
    EXPECT_EQ(cents_of(cached.at("price")), 1250) << cached;
  }
  ASSERT_EQ(put(path, R"({"price":13.75})").status, 200);
  const Res written = get(path);
  EXPECT_EQ(cents_of(written.at("price")), 1375) << "the writing gateway kept its old copy: " << written;
  EXPECT_FALSE(is_hit(written)) << written;
  Res seen;
  for (int i = 0; i < 6; ++i) {
    seen = get_at(other, path);
    if (cents_of(seen.at("price")) == 1375) break;
    EXPECT_TRUE(is_hit(seen)) << "an old price not from the cache: " << seen;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(cents_of(seen.at("price")), 1375) << "the second gateway's copy outlived its max-age";

  // Its limiter is its own: once this client has spent its bucket of 12 there (a token comes
  // back every 5 s), a request is refused with a problem saying when to retry; the first
  // gateway answers the same client under its own policy.
  Res refused;
  for (int i = 0; i < 12 && refused.status != 429; ++i) refused = get_at(other, path);
  EXPECT_TRUE(is_problem(refused, 429)) << refused;
  EXPECT_FALSE(refused.header("Retry-After").empty()) << refused;
  const Res served = get(path);
  EXPECT_EQ(served.status, 200) << served;
  EXPECT_NE(served.header("RateLimit-Policy"), refused.header("RateLimit-Policy")) << "one policy for both gateways";
}

}  // namespace
}  // namespace saga

// The REST directory against an in-process fake of the customer and product services.
#include "api/rest_directory.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sales/resilience/deadline.hpp"
#include "sales_test/fake_service.hpp"

namespace order {
namespace {

namespace http = sales::http;

struct Fixture {
  sales_test::FakeService customers_service, products_service, payments_service;
  http::Client customers{{.base_url = customers_service.url()}};
  http::Client products{{.base_url = products_service.url()}};
  http::Client payments{{.base_url = payments_service.url()}};
  RestDirectory directory{customers, products, payments};
};

const CallContext kTracedContext{"req-42", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};

TEST(RestDirectory, ReadsAddressAndPriceAndForwardsTheTrace) {
  Fixture f;
  f.customers_service.reply(200, R"({"id":3,"name":"Ann","address":"1 Main St","contact":null})");
  f.products_service.reply(200, R"({"id":7,"name":"Lamp","price":19.99,"stock":4})");
  EXPECT_EQ(f.directory.customer(3, kTracedContext)->address, "1 Main St");
  EXPECT_EQ(f.directory.product(7, kTracedContext)->price_cents, 1999);
  auto sent = f.products_service.last();
  EXPECT_EQ(sent.target, "/products/7");
  EXPECT_EQ(sent.request_id(), "req-42");
  EXPECT_EQ(sent.headers.get("traceparent"), kTracedContext.traceparent);
  EXPECT_EQ(f.customers_service.last().target, "/customers/3");
}

TEST(RestDirectory, SeveralProductsAreOneCallAndTheMissingOnesAreUnknown) {
  Fixture f;
  f.products_service.reply(200, R"({"items":[{"id":3,"price":1.50},{"id":9,"price":20}],"total":2,"limit":3,"offset":0})");
  auto found = f.directory.find_products({3, 5, 9}, kTracedContext);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found.at(3).price_cents, 150);
  EXPECT_EQ(found.at(9).price_cents, 2000);
  EXPECT_FALSE(found.contains(5));
  ASSERT_EQ(f.products_service.targets(), (std::vector<std::string>{"/products?limit=4&ids=3,5,9"}));
  EXPECT_EQ(f.products_service.last().request_id(), "req-42");

  // One product: its own resource, as before.
  f.products_service.reply(200, R"({"id":4,"price":2})");
  EXPECT_EQ(f.directory.find_products({4}, kTracedContext).at(4).price_cents, 200);
  EXPECT_EQ(f.products_service.last().target, "/products/4");

  // An item without an id, or a list without items: the owner broke its contract.
  for (const char* bad : {R"({"items":[{"price":1}]})", R"({"total":0})", R"({"items":[{"id":3,"price":"1"}]})"}) {
    f.products_service.reply(200, bad);
    EXPECT_THROW(f.directory.find_products({3, 4}, kTracedContext), DirectoryUnavailable) << bad;
  }
  f.products_service.reply(503, "{}");
  EXPECT_THROW(f.directory.find_products({3, 4}, kTracedContext), DirectoryUnavailable);
  // A list that ignored ?ids= (a product not asked for), and a 400 about anything else
  // (our own request at fault): unavailable, never "unknown product", never one by one.
  f.products_service.reply(200, R"({"items":[{"id":1,"price":1},{"id":2,"price":1},{"id":3,"price":1}]})");
  EXPECT_THROW(f.directory.find_products({3, 4}, kTracedContext), DirectoryUnavailable);
  f.products_service.reply(400, R"({"status":400,"errors":[{"field":"ids","message":"must be 1 to 100 positive integers"}]})");
  const auto calls = f.products_service.targets().size();
  EXPECT_THROW(f.directory.find_products({3, 4}, kTracedContext), DirectoryUnavailable);
  EXPECT_EQ(f.products_service.targets().size(), calls + 1) << "no fallback for our own bad request";
}

TEST(RestDirectory, AProductServiceWithoutIdsListsIsAskedOneByOne) {
  Fixture f;
  f.products_service.reply_to("/products", 400,
                              R"({"status":400,"errors":[{"field":"ids","message":")" +
                                  std::string(http::kNotAListParameter) + R"("}]})");
  f.products_service.reply_to("/products/3", 200, R"({"id":3,"price":1})");
  f.products_service.reply_to("/products/5", 404, R"({"status":404})");
  auto found = f.directory.find_products({3, 5}, kTracedContext);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.at(3).price_cents, 100);
  EXPECT_EQ(f.products_service.targets(),
            (std::vector<std::string>{"/products?limit=3&ids=3,5", "/products/3", "/products/5"}));
}

TEST(RestDirectory, NotFoundMeansUnknown) {
  Fixture f;
  f.customers_service.reply(404, R"({"status":404})");
  f.products_service.reply(404, R"({"status":404})");
  EXPECT_FALSE(f.directory.customer(3, kTracedContext));
  EXPECT_FALSE(f.directory.product(7, kTracedContext));
}

TEST(RestDirectory, APaymentsStatusIsAskedWithTheTrace) {
  Fixture f;
  f.payments_service.reply_to("/payments/9", 200, R"({"id":9,"order_id":4,"amount":5.00,"status":"REFUNDED"})");
  EXPECT_EQ(f.directory.payment_status(9, kTracedContext), "REFUNDED");
  EXPECT_EQ(f.payments_service.last().headers.get("X-Request-Id"), "req-42");
  EXPECT_TRUE(f.payments_service.last().headers.get("traceparent"));
  f.payments_service.reply(404, R"({"status":404})");
  EXPECT_FALSE(f.directory.payment_status(10, kTracedContext));
  for (auto [status, body] : std::vector<std::pair<int, std::string>>{{503, "{}"}, {200, R"({"status":1})"}, {200, "[]"}}) {
    f.payments_service.reply(status, body);
    EXPECT_THROW(f.directory.payment_status(10, kTracedContext), DirectoryUnavailable) << status << " " << body;
  }
}

// The unpaid-order expiry's question: the order's payments, in one list query.
TEST(RestDirectory, AnOrdersPaymentsAreOneListQuery) {
  Fixture f;
  f.payments_service.reply(
      200, R"({"items":[{"id":3,"order_id":7,"amount":5.00,"status":"CONFIRMED","created_at":"2026-12-05T08:00:00.000001Z",)"
           R"("updated_at":"2026-12-05T08:00:01.000001Z"},{"id":2,"order_id":7,"amount":5.00,"status":"REFUNDED",)"
           R"("created_at":"2026-12-05T07:00:00.000001Z","updated_at":"2026-12-05T07:30:00.000001Z"}],"total":2})");
  auto confirmed = f.directory.payments_of(7, kTracedContext);
  EXPECT_EQ(confirmed.confirmed, 3);
  EXPECT_EQ(confirmed.confirmed_at, "2026-12-05T08:00:01.000001Z") << "when it was confirmed";
  EXPECT_TRUE(confirmed.refunded);
  EXPECT_EQ(confirmed.pending_since, "");
  EXPECT_EQ(f.payments_service.last().target, "/payments?order_id=7&limit=4");
  f.payments_service.reply(
      200, R"({"items":[{"id":4,"order_id":7,"amount":5.00,"status":"PENDING","created_at":"2026-12-05T08:00:00.000002Z",)"
           R"("updated_at":"2026-12-05T08:00:00.000002Z"}],"total":1})");
  auto pending = f.directory.payments_of(7, kTracedContext);
  EXPECT_FALSE(pending.confirmed);
  EXPECT_FALSE(pending.refunded);
  EXPECT_EQ(pending.pending_since, "2026-12-05T08:00:00.000002Z");
  f.payments_service.reply(200, R"({"items":[],"total":0})");
  auto none = f.directory.payments_of(7, kTracedContext);
  EXPECT_FALSE(none.confirmed);
  EXPECT_EQ(none.pending_since, "");
  for (auto [status, body] : std::vector<std::pair<int, std::string>>{
           {503, "{}"},
           {200, R"({"total":0})"},
           {400, "{}"},
           {200, R"({"items":[{"status":"PENDING"}]})"},
           {200, R"({"items":[{"id":"3","status":"CONFIRMED","created_at":"2026-12-05T08:00:00Z","updated_at":"2026-12-05T08:00:00Z"}]})"},
           {200, R"({"items":[{"id":3,"status":"CONFIRMED","created_at":"2026-12-05T08:00:00Z"}]})"},
           {200, R"({"items":[1]})"}}) {
    f.payments_service.reply(status, body);
    EXPECT_THROW(f.directory.payments_of(7, kTracedContext), DirectoryUnavailable) << status << " " << body;
  }
}

TEST(RestDirectory, ServerErrorsAndGarbageMeanUnavailable) {
  Fixture f;
  for (auto [status, body] : std::vector<std::pair<int, std::string>>{
           {500, "{}"}, {503, "{}"}, {429, "{}"}, {200, "not json"}, {200, R"({"price":"19.99"})"}, {200, "[]"}}) {
    f.products_service.reply(status, body);
    EXPECT_THROW(f.directory.product(7, kTracedContext), DirectoryUnavailable) << status << " " << body;
  }
  f.customers_service.reply(200, R"({"address":5})");
  EXPECT_THROW(f.directory.customer(3, kTracedContext), DirectoryUnavailable);
}

TEST(RestDirectory, UnreachableMeansUnavailable) {
  std::string url;
  {
    sales_test::FakeService gone;
    url = gone.url();
  }  // stopped: nothing listens there any more
  http::Client dead({.base_url = url, .timeout = std::chrono::milliseconds(500)});
  RestDirectory directory(dead, dead, dead);
  EXPECT_THROW(directory.customer(1, kTracedContext), DirectoryUnavailable);
}

// Within a request's budget the owners get what is left of it; once it is spent the order
// service asks nobody, and says so as a deadline (504), not as an owner outage (503).
TEST(RestDirectory, TheRequestsBudgetTravelsToTheOwners) {
  Fixture f;
  f.products_service.reply(200, R"({"id":7,"name":"Lamp","price":19.99,"stock":4})");
  {
    sales::resilience::DeadlineScope scope(std::chrono::steady_clock::now() + std::chrono::milliseconds(800));
    f.directory.product(7, kTracedContext);
  }
  auto budget = std::stoll(std::string(f.products_service.last().headers.get("X-Request-Budget-Ms").value_or("-1")));
  EXPECT_GT(budget, 0);
  EXPECT_LE(budget, 800);
}

// An owner that does not answer within the request's budget is named as out, like one that
// is down (503 with Sales-Dependency-Unavailable), not left to look like the order service
// timing out (a 504, which the gateway counts against the order service's breaker).
TEST(RestDirectory, AnOwnerThatHangsPastTheRequestsDeadlineIsNamed) {
  Fixture f;
  f.products_service.reply(200, R"({"id":7,"name":"Lamp","price":19.99,"stock":4})");
  f.products_service.delay(std::chrono::milliseconds(1000));
  sales::resilience::DeadlineScope scope(std::chrono::steady_clock::now() + std::chrono::milliseconds(150));
  try {
    f.directory.product(7, kTracedContext);
    ADD_FAILURE() << "the product service answered after the deadline";
  } catch (const DirectoryUnavailable& e) {
    EXPECT_EQ(e.service(), "product");
    EXPECT_STREQ(e.what(), "product service did not answer in time");
  }
}

TEST(RestDirectory, ASpentBudgetAsksNobody) {
  Fixture f;
  sales::resilience::DeadlineScope scope(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  EXPECT_THROW(f.directory.customer(3, kTracedContext), sales::resilience::DeadlineExceeded);
  EXPECT_TRUE(f.customers_service.last().target.empty()) << "the customer service was called";
}

TEST(RestDirectory, CustomerWithoutAddress) {
  EXPECT_FALSE(parse_customer(R"({"id":1,"address":null})").address);
  EXPECT_FALSE(parse_customer(R"({"id":1})").address);
}

TEST(UpstreamOptions, InvalidUrlStopsTheServiceFromStarting) {
  sales::config::Env env(std::map<std::string, std::string>{{"CUSTOMER_SERVICE_URL", "ftp://x"}});
  auto opts = upstream_options(env, "CUSTOMER_SERVICE_URL", "http://127.0.0.1:8003");
  EXPECT_EQ(opts.base_url, "http://127.0.0.1:8003");
  EXPECT_THROW(env.finish(), sales::config::ConfigError);
  sales::config::Env good(
      std::map<std::string, std::string>{{"PRODUCT_SERVICE_URL", "http://10.0.0.5:9001"}, {"UPSTREAM_TIMEOUT_MS", "750"}});
  auto p = upstream_options(good, "PRODUCT_SERVICE_URL", "http://127.0.0.1:8001");
  EXPECT_EQ(p.base_url, "http://10.0.0.5:9001");
  EXPECT_EQ(p.timeout, std::chrono::milliseconds(750));
  EXPECT_NO_THROW(good.finish());
}

}  // namespace
}  // namespace order

// The stock routes against PostgreSQL when a product has no stock here: the product service
// is asked whether it has the product, and a product created moments ago (its product.created
// not applied yet) is a 409 to retry, not a 404 that reads as permanent.
#include "api/stock_handlers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sales/resilience/deadline.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/fake_service.hpp"
#include "sales_test/http.hpp"
#include "test/store_fixture.hpp"

namespace inventory::testing {
namespace {

// What the product service would say, and which products it was asked about.
class FakeProductCheck final : public ProductCheck {
 public:
  ProductKnown says = ProductKnown::Yes;
  std::vector<std::int64_t> asked;
  ProductKnown known(std::int64_t product_id, const sales::http::Request&) override {
    asked.push_back(product_id);
    return says;
  }
};

class StockApiTest : public StoreTest {
 public:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    stock_ = std::make_unique<StockStore>(*pool_);
    reservations_ = std::make_unique<ReservationStore>(*pool_);
    register_routes(router_, *pool_, *stock_, *reservations_, products_);
  }

  sales::http::Response call(const std::string& method, const std::string& target, std::string body = {}) {
    return sales_test::answer(router_, sales_test::request(method, target, std::move(body)));
  }
  // The three routes that name a product: the read, the adjust (in the path) and the take (in the body).
  struct Answers {
    sales::http::Response read, adjust, take;
  };
  Answers ask_all(std::int64_t product) {
    const std::string id = std::to_string(product);
    return {call("GET", "/inventory/stock/" + id), call("POST", "/inventory/stock/" + id + "/adjust", R"({"delta":3})"),
            call("PUT", "/inventory/stock", R"({"product_id":)" + id + R"(,"quantity":1})")};
  }

 protected:
  FakeProductCheck products_;
  std::unique_ptr<StockStore> stock_;
  std::unique_ptr<ReservationStore> reservations_;
  sales::http::Router router_;
};

TEST_F(StockApiTest, AProductCreatedMomentsAgoIsAConflictToRetryAndChangesNothing) {
  products_.says = ProductKnown::Yes;
  auto a = ask_all(41);
  for (const auto* res : {&a.read, &a.adjust, &a.take}) {
    EXPECT_EQ(res->status, 409) << res->body;
    EXPECT_EQ(res->headers.get("Retry-After").value_or(""), "1") << res->body;
    EXPECT_NE(res->body.find("Product 41 was created moments ago"), std::string::npos) << res->body;
    EXPECT_NE(res->body.find(kStockNotReady), std::string::npos) << "told apart from too little stock: " << res->body;
  }
  EXPECT_NE(a.take.body.find(R"("field":"product_id")"), std::string::npos) << a.take.body;
  EXPECT_EQ(products_.asked, (std::vector<std::int64_t>{41, 41, 41}));
  // Once its product.created is applied, the same requests go through.
  create_product(41, 5);
  auto after = ask_all(41);
  EXPECT_EQ(after.read.status, 200) << after.read.body;
  EXPECT_EQ(after.adjust.status, 200) << after.adjust.body;
  EXPECT_EQ(after.take.status, 200) << after.take.body;
  EXPECT_EQ(stock_of(41), 7);
  EXPECT_EQ(products_.asked.size(), 3u) << "a product with stock asks nobody";
  EXPECT_EQ(invariant_violations(), 0);
}

// A keyed change refused for a product created moments ago does not spend its key: the same
// request, sent again once the stock has arrived, is applied (not the 409 replayed).
TEST_F(StockApiTest, AKeyedChangeRefusedAsTooEarlyGoesThroughWhenRetried) {
  products_.says = ProductKnown::Yes;
  auto keyed = [&] {
    auto req = sales_test::request("POST", "/inventory/stock/44/adjust", R"({"delta":2})");
    req.headers.set("Idempotency-Key", "restock-44");
    return sales_test::answer(router_, std::move(req));
  };
  EXPECT_EQ(keyed().status, 409);
  create_product(44, 1);
  auto applied = keyed();
  EXPECT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(keyed().body, applied.body) << "a repeat now replays the change";
  EXPECT_EQ(stock_of(44), 3);
}

// A deleted product's row says what the product service would: nobody is asked.
TEST_F(StockApiTest, ADeletedProductIsUnknownWithoutAskingTheProductService) {
  create_product(45, 2);
  committed([](pg::Transaction& tx) { mark_deleted(tx, 45); });
  products_.says = ProductKnown::Yes;  // would be wrong: it is not asked
  auto a = ask_all(45);
  EXPECT_EQ(a.read.status, 404) << a.read.body;
  EXPECT_EQ(a.adjust.status, 404) << a.adjust.body;
  EXPECT_EQ(a.take.status, 422) << a.take.body;
  EXPECT_TRUE(products_.asked.empty());
}

// The refusals of a product inventory has no stock for and the product service does not
// confirm: 404 named in the path, 422 named in the body, each with `detail`, none to retry.
void expect_unknown(const StockApiTest::Answers& a, const std::string& detail) {
  EXPECT_EQ(a.read.status, 404) << a.read.body;
  EXPECT_EQ(a.adjust.status, 404) << a.adjust.body;
  EXPECT_EQ(a.take.status, 422) << a.take.body;
  for (const auto* res : {&a.read, &a.adjust, &a.take}) {
    EXPECT_NE(res->body.find(detail), std::string::npos) << res->body;
    EXPECT_FALSE(res->headers.get("Retry-After")) << res->body;
  }
}

TEST_F(StockApiTest, AProductTheProductServiceDoesNotHaveIsUnknown) {
  products_.says = ProductKnown::No;
  expect_unknown(ask_all(42), "Product 42 has no stock: it is unknown or deleted.");
}

TEST_F(StockApiTest, WhenTheProductServiceCannotBeAskedTheRefusalSaysBothAreLikely) {
  products_.says = ProductKnown::CannotTell;
  expect_unknown(ask_all(43), "Product 43 has no stock: it is unknown, deleted, or was created moments ago (the "
                              "product service could not be asked which).");
}

// RestProductCheck's reading of the product service's answers.
TEST(RestProductCheck, TellsTheProductServicesAnswers) {
  sales_test::FakeService product_service;
  RestProductCheck check(product_service.url());
  auto cause = sales_test::get("/inventory/stock/7");
  cause.headers.set("X-Request-Id", "req-7");
  product_service.reply(200, R"({"id":7})");
  EXPECT_EQ(check.known(7, cause), ProductKnown::Yes);
  EXPECT_EQ(product_service.last().target, "/products/7");
  EXPECT_EQ(product_service.last().headers.get("X-Request-Id").value_or(""), "req-7");
  product_service.reply(404, R"({"status":404})");
  EXPECT_EQ(check.known(7, cause), ProductKnown::No);
  product_service.reply(503, R"({"status":503})");
  EXPECT_EQ(check.known(7, cause), ProductKnown::CannotTell);
  product_service.reply(200, "{}", std::chrono::milliseconds(900));  // past its 500 ms
  EXPECT_EQ(check.known(7, cause), ProductKnown::CannotTell);
}

TEST(RestProductCheck, CannotTellWhenTheRequestsTimeIsSpent) {
  sales_test::FakeService product_service;
  product_service.reply(200, R"({"id":7})");
  RestProductCheck check(product_service.url());
  sales::resilience::DeadlineScope spent(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  EXPECT_EQ(check.known(7, sales_test::get("/inventory/stock/7")), ProductKnown::CannotTell);
  EXPECT_EQ(product_service.requests(), 0);
}

// A product service that hangs holds at most two handler threads: a third question meanwhile
// is not sent.
TEST(RestProductCheck, AsksTwoAtATime) {
  sales_test::FakeService product_service(0, /*threads=*/3);
  product_service.reply(200, R"({"id":7})", std::chrono::milliseconds(300));
  RestProductCheck check(product_service.url());
  std::vector<std::jthread> slow;
  for (int i = 0; i < 2; ++i) slow.emplace_back([&] { check.known(7, sales_test::get("/inventory/stock/7")); });
  ASSERT_TRUE(sales_test::eventually([&] { return product_service.requests() == 2; }, std::chrono::seconds(5)));
  EXPECT_EQ(check.known(8, sales_test::get("/inventory/stock/8")), ProductKnown::CannotTell);
  slow.clear();
  EXPECT_EQ(product_service.targets(), (std::vector<std::string>{"/products/7", "/products/7"}));
  product_service.reply(200, R"({"id":8})");
  EXPECT_EQ(check.known(8, sales_test::get("/inventory/stock/8")), ProductKnown::Yes) << "room again";
}

TEST(RestProductCheck, CannotTellWhenTheProductServiceIsDown) {
  std::string url;
  {
    sales_test::FakeService gone;
    url = gone.url();
  }
  RestProductCheck check(url);
  EXPECT_EQ(check.known(7, sales_test::get("/inventory/stock/7")), ProductKnown::CannotTell);
}

}  // namespace
}  // namespace inventory::testing

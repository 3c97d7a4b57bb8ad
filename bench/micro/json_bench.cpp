// JSON on the hot paths: reading a request body into checked fields, writing a product.
#include <benchmark/benchmark.h>

#include <string>

#include "sales/json/read.hpp"
#include "sales/json/writer.hpp"

static void BM_Json_ReadProductBody(benchmark::State& state) {
  const std::string body =
      R"({"name":"Desk lamp","price":19.99,"description":"LED, warm white, 40 cm arm","stock":25})";
  for (auto _ : state) {
    auto obj = sales::json::parse_object(body);
    sales::json::FieldReader r(obj);
    r.allow_only({"name", "price", "description", "stock"});
    auto name = r.string("name", true, 200, 1);
    auto price = r.money("price", true);
    auto desc = r.string("description", false, 2000);
    auto stock = r.integer("stock", false, 0, 1'000'000'000);
    r.finish();
    benchmark::DoNotOptimize(name);
    benchmark::DoNotOptimize(price);
    benchmark::DoNotOptimize(desc);
    benchmark::DoNotOptimize(stock);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Json_ReadProductBody);

static void BM_Json_WriteProduct(benchmark::State& state) {
  for (auto _ : state) {
    sales::json::Writer w;
    w.begin_object()
        .field("id", std::int64_t{12345})
        .field("name", "Desk lamp")
        .field("description", "LED, warm white, 40 cm arm")
        .money_field("price", 1999)
        .field("stock", 25)
        .field("created_at", "2026-11-25T08:31:55.534781Z")
        .field("updated_at", "2026-11-25T08:31:55.534781Z")
        .end_object();
    benchmark::DoNotOptimize(w.str());
  }
}
BENCHMARK(BM_Json_WriteProduct);

static void BM_Json_WriteList50(benchmark::State& state) {
  for (auto _ : state) {
    sales::json::Writer w;
    w.begin_object().key("items").begin_array();
    for (int i = 0; i < 50; ++i) {
      w.begin_object()
          .field("id", std::int64_t{i + 1})
          .field("name", "Desk lamp \"deluxe\"")
          .key("description")
          .null()
          .money_field("price", 1999 + i)
          .field("stock", i)
          .end_object();
    }
    w.end_array().field("total", 50).field("limit", 50).field("offset", 0).end_object();
    benchmark::DoNotOptimize(w.str());
  }
}
BENCHMARK(BM_Json_WriteList50);

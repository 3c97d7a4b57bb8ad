// Gateway routing: the first path segment picks the upstream (gateway::upstream_for).
#include <benchmark/benchmark.h>

#include <string_view>

#include "domain/routes.hpp"

static void BM_Route_ProductById(benchmark::State& state) {
  std::string_view path = "/products/12345";
  for (auto _ : state) {
    benchmark::DoNotOptimize(path);
    benchmark::DoNotOptimize(gateway::upstream_for(path));
  }
}
BENCHMARK(BM_Route_ProductById);

static void BM_Route_Mixed(benchmark::State& state) {
  static constexpr std::string_view paths[] = {"/products/1",       "/orders/42/cancel", "/customers?email=a@b.c",
                                               "/inventory/stock/7", "/shipping",         "/nowhere/1"};
  std::size_t i = 0;
  for (auto _ : state) {
    std::string_view p = paths[i++ % std::size(paths)];
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(gateway::upstream_for(p));
  }
}
BENCHMARK(BM_Route_Mixed);

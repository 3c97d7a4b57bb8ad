// Resilience filters every proxied request passes: circuit breaker, token bucket, bulkhead,
// retry budget. Threads(2) shows the cost under contention on a 2-core box.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "sales/resilience/bulkhead.hpp"
#include "sales/resilience/circuit_breaker.hpp"
#include "sales/resilience/rate_limiter.hpp"
#include "sales/resilience/retry_budget.hpp"

using namespace sales::resilience;

static void BM_Breaker_AcquireSuccess(benchmark::State& state) {
  static CircuitBreaker breaker(CircuitBreakerConfig{});
  for (auto _ : state) {
    auto permit = breaker.try_acquire();
    if (permit) permit.on_success(std::chrono::microseconds(300));
  }
}
BENCHMARK(BM_Breaker_AcquireSuccess)->Threads(1)->Threads(2);

static void BM_TokenBucket_OneKey(benchmark::State& state) {
  static RateLimiter limiter(RateLimiterConfig{.max = 1'000'000'000, .window = std::chrono::seconds(1)});
  for (auto _ : state) benchmark::DoNotOptimize(limiter.check("127.0.0.1"));
}
BENCHMARK(BM_TokenBucket_OneKey)->Threads(1)->Threads(2);

static void BM_TokenBucket_10kKeys(benchmark::State& state) {
  static RateLimiter limiter(RateLimiterConfig{.max = 100, .window = std::chrono::seconds(1), .max_keys = 100'000});
  std::vector<std::string> keys;
  for (int i = 0; i < 10'000; ++i) keys.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(limiter.check(keys[i++ % keys.size()]));
}
BENCHMARK(BM_TokenBucket_10kKeys);

static void BM_Bulkhead_EnterLeave(benchmark::State& state) {
  static Bulkhead bulkhead(256);
  for (auto _ : state) {
    auto permit = bulkhead.try_enter();
    benchmark::DoNotOptimize(permit);
  }
}
BENCHMARK(BM_Bulkhead_EnterLeave)->Threads(1)->Threads(2);

static void BM_RetryBudget_RecordRequest(benchmark::State& state) {
  static RetryBudget budget;
  for (auto _ : state) budget.record_request();
}
BENCHMARK(BM_RetryBudget_RecordRequest)->Threads(1)->Threads(2);

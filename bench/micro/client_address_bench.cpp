// The gateway's client address (gateway::client_address): with no trusted proxies it only
// wraps the peer; behind a trusted proxy it parses the peer and walks X-Forwarded-For.
#include <benchmark/benchmark.h>

#include "domain/client_address.hpp"

namespace {

sales::http::Headers typical_request(const char* forwarded_for) {
  sales::http::Headers h;
  h.add("Host", "shop.example");
  h.add("User-Agent", "bench");
  h.add("Accept", "application/json");
  if (forwarded_for) h.add("X-Forwarded-For", forwarded_for);
  return h;
}

void run(benchmark::State& state, const gateway::IpRanges& trusted, const char* forwarded_for) {
  auto headers = typical_request(forwarded_for);
  std::string_view peer = "10.0.0.5";
  for (auto _ : state) {
    benchmark::DoNotOptimize(peer);
    auto client = gateway::client_address(peer, headers, trusted);
    benchmark::DoNotOptimize(client.key().data());
  }
}

}  // namespace

static void BM_ClientAddress_NoTrustedProxies(benchmark::State& state) {
  run(state, gateway::IpRanges(), "203.0.113.7");
}
BENCHMARK(BM_ClientAddress_NoTrustedProxies);

static void BM_ClientAddress_OneTrustedHop(benchmark::State& state) {
  run(state, gateway::IpRanges::parse("10.0.0.0/8"), "203.0.113.7");
}
BENCHMARK(BM_ClientAddress_OneTrustedHop);

static void BM_ClientAddress_ThreeTrustedHopsIPv6(benchmark::State& state) {
  run(state, gateway::IpRanges::parse("10.0.0.0/8, 172.16.0.0/12, fd00::/8"),
      "198.51.100.1, 2001:db8::7, fd00::1, 172.16.0.9, 10.1.1.1");
}
BENCHMARK(BM_ClientAddress_ThreeTrustedHopsIPv6);

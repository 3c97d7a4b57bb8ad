#pragma once
// What the gateway's integration tests are made of (header-only: the build compiles only
// test/*_test.cpp), one header per part:
//   FakeUpstream    a real HTTP server (the platform's sync sales::http::Server) whose faults
//                   the test sets through atomics: fail with a status (always, or the first N
//                   requests), delay, and which records every request it receives;
//   ResetServer     a TCP listener that accepts and resets every connection at once;
//   ReservedPort    a loopback port bound but not listening: connections are refused;
//   GatewayProcess  the real sales-gateway binary as a child process with a given env;
//   helpers         HTTP through a fresh client, JSON, Prometheus text, bounded polling;
//   GatewayFixture  a gateway in front of fake product and customer services.
#include <gtest/gtest.h>

#include <iostream>

#include "common.hpp"          // polling, HTTP, problems, breaker state, metrics
#include "fake_servers.hpp"    // FakeUpstream, ResetServer, ReservedPort
#include "gateway_process.hpp"  // GatewayProcess

namespace gateway_test {

// ------------------------------------------------------------------------- fixture

// A real gateway in front of fake product and customer services; the other four upstreams
// refuse connections. Tests start it with the settings they need.
class GatewayFixture : public ::testing::Test {
 protected:
  FakeUpstream product{"product"};
  FakeUpstream customer{"customer"};
  ReservedPort dead;        // order, payment, inventory, shipping: connection refused
  GatewayProcess gateway;   // declared last: stopped before the upstreams go away
  std::string gw;           // its base URL

  EnvMap base_env() const {
    return {{"PRODUCT_SERVICE_URL", product.url()},   {"CUSTOMER_SERVICE_URL", customer.url()},
            {"ORDER_SERVICE_URL", dead.url()},        {"PAYMENT_SERVICE_URL", dead.url()},
            {"INVENTORY_SERVICE_URL", dead.url()},    {"SHIPPING_SERVICE_URL", dead.url()},
            {"GATEWAY_RETRY_BASE_MS", "5"}};
  }

  void start(const EnvMap& settings = {}) {
    auto env = base_env();
    for (const auto& [k, v] : settings) env[k] = v;
    gateway.start(env);
    gw = gateway.url();
  }

  void TearDown() override {
    gateway.stop();
    if (HasFailure()) {
      auto out = gateway.output();
      if (out.size() > 6000) out = "..." + out.substr(out.size() - 6000);
      std::cerr << "---- sales-gateway output ----\n" << out << "------------------------------\n";
    }
  }

  double metric_of(const std::vector<std::pair<std::string, std::string>>& labels, const std::string& name) {
    return metric_sum(metrics_text(gw), name, labels).value_or(-1);
  }
};

}  // namespace gateway_test

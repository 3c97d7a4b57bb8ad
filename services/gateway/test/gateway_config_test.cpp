// The gateway's settings: the documented defaults, every invalid value refused with the
// variable named, the seed's rate-limit policy expressible.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "domain/gateway_config.hpp"

namespace gateway {
namespace {

using namespace std::chrono_literals;
using Vars = std::map<std::string, std::string>;

GatewayConfig read(const Vars& vars) {
  sales::config::Env env(vars);
  auto c = read_gateway_config(env);
  env.finish();
  return c;
}

// The message env.finish() throws, or "" when the configuration is valid.
std::string error_for(const Vars& vars) {
  sales::config::Env env(vars);
  read_gateway_config(env);
  try {
    env.finish();
  } catch (const sales::config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(GatewayConfig, DefaultsAreTheDocumentedOnes) {
  auto c = read({});
  EXPECT_EQ(c.timeout, 5000ms);
  EXPECT_EQ(c.retry.max_retries, 3);
  EXPECT_EQ(c.retry.base, 100ms);
  EXPECT_DOUBLE_EQ(c.budget.budget_percent, 20.0);
  EXPECT_DOUBLE_EQ(c.budget.min_retries_per_second, 3.0);
  EXPECT_EQ(c.breaker.window_size, 20u);
  EXPECT_EQ(c.breaker.minimum_calls, 10u);
  EXPECT_DOUBLE_EQ(c.breaker.failure_rate_percent, 50.0);
  EXPECT_EQ(c.breaker.open_duration, std::chrono::duration_cast<sales::resilience::Duration>(10000ms));
  EXPECT_EQ(c.breaker.half_open_calls, 3u);
  EXPECT_TRUE(c.rate_limit_enabled);
  // "Generous enough for the web page and the benchmarks": far above the seed's 100 / 15 min.
  EXPECT_GE(static_cast<double>(c.rate_limit.max) /
                std::chrono::duration<double>(c.rate_limit.window).count(),
            1000.0);
  // ... and above what one benchmark client reaches through the response cache (~130k/s).
  EXPECT_GE(c.rate_limit.max, 500'000u);
  EXPECT_GE(c.bulkhead_max, 64u);
  EXPECT_EQ(c.max_connections_per_client, 1024u) << "a quarter of the server's 4096";
  EXPECT_TRUE(c.trusted_proxies.empty()) << "trust nobody: the peer is the client";
  EXPECT_TRUE(c.admin_sources.empty()) << "anyone may read /metrics and /gateway/..., as before the setting";
  EXPECT_FALSE(c.cors.enabled()) << "no origin but the API's own until one is listed";
}

TEST(GatewayConfig, CorsOriginsAreReadAndAnEntryThatIsNotAnOriginIsRefused) {
  EXPECT_TRUE(read({{"GATEWAY_CORS_ALLOWED_ORIGINS", "https://shop.example, http://localhost:3000"}}).cors.enabled());
  EXPECT_TRUE(read({{"GATEWAY_CORS_ALLOWED_ORIGINS", "*"}}).cors.enabled());
  auto error = error_for({{"GATEWAY_CORS_ALLOWED_ORIGINS", "https://shop.example,shop2.example"}});
  EXPECT_NE(error.find("GATEWAY_CORS_ALLOWED_ORIGINS"), std::string::npos) << error;
  EXPECT_NE(error.find("shop2.example"), std::string::npos) << error;
}

TEST(GatewayConfig, UpstreamsDefaultToTheLocalPortsOfSalesScript) {
  auto c = read({});
  const std::map<UpstreamId, std::string> expected = {
      {UpstreamId::Product, "http://127.0.0.1:8001"},  {UpstreamId::Order, "http://127.0.0.1:8002"},
      {UpstreamId::Customer, "http://127.0.0.1:8003"}, {UpstreamId::Payment, "http://127.0.0.1:8004"},
      {UpstreamId::Inventory, "http://127.0.0.1:8005"}, {UpstreamId::Shipping, "http://127.0.0.1:8006"},
  };
  for (auto id : kAllUpstreams) EXPECT_EQ(c.upstream_urls[static_cast<std::size_t>(id)], expected.at(id)) << name_of(id);
}

TEST(GatewayConfig, EveryVariableIsRead) {
  auto c = read({{"GATEWAY_TIMEOUT_MS", "750"},
                 {"GATEWAY_RETRY_MAX", "5"},
                 {"GATEWAY_RETRY_BASE_MS", "25"},
                 {"GATEWAY_RETRY_BUDGET_PERCENT", "35"},
                 {"GATEWAY_RETRY_BUDGET_MIN_PER_SECOND", "0"},
                 {"GATEWAY_CB_WINDOW", "40"},
                 {"GATEWAY_CB_MIN_CALLS", "8"},
                 {"GATEWAY_CB_FAILURE_RATE", "75"},
                 {"GATEWAY_CB_OPEN_MS", "1500"},
                 {"GATEWAY_CB_HALF_OPEN_CALLS", "4"},
                 {"GATEWAY_RATE_LIMIT_MAX", "7"},
                 {"GATEWAY_RATE_LIMIT_WINDOW_MS", "60000"},
                 {"GATEWAY_BULKHEAD_MAX", "9"},
                 {"GATEWAY_ANSWERS_MAX_BYTES", "33554432"},
                 {"GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8, ::1"},
                 {"GATEWAY_ADMIN_SOURCES", "10.244.0.0/16"},
                 {"GATEWAY_MAX_BODY_BYTES", "2048"},
                 {"GATEWAY_CORS_ALLOWED_ORIGINS", "https://shop.example"},
                 {"PRODUCT_SERVICE_URL", "http://127.0.0.1:9101"},
                 {"ORDER_SERVICE_URL", "http://localhost:9102"},
                 {"CUSTOMER_SERVICE_URL", "http://127.0.0.1:9103/"},
                 {"PAYMENT_SERVICE_URL", "http://127.0.0.1:9104"},
                 {"INVENTORY_SERVICE_URL", "http://127.0.0.1:9105"},
                 {"SHIPPING_SERVICE_URL", "http://127.0.0.1:9106"}});
  EXPECT_EQ(c.timeout, 750ms);
  EXPECT_TRUE(c.cors.enabled());
  EXPECT_EQ(c.retry.max_retries, 5);
  EXPECT_EQ(c.retry.base, 25ms);
  EXPECT_DOUBLE_EQ(c.budget.budget_percent, 35.0);
  EXPECT_DOUBLE_EQ(c.budget.min_retries_per_second, 0.0);
  EXPECT_EQ(c.breaker.window_size, 40u);
  EXPECT_EQ(c.breaker.minimum_calls, 8u);
  EXPECT_DOUBLE_EQ(c.breaker.failure_rate_percent, 75.0);
  EXPECT_EQ(c.breaker.open_duration, std::chrono::duration_cast<sales::resilience::Duration>(1500ms));
  EXPECT_EQ(c.breaker.half_open_calls, 4u);
  EXPECT_TRUE(c.rate_limit_enabled);
  EXPECT_EQ(c.rate_limit.max, 7u);
  EXPECT_EQ(c.rate_limit.window, std::chrono::duration_cast<sales::resilience::Duration>(60000ms));
  EXPECT_EQ(c.bulkhead_max, 9u);
  EXPECT_EQ(c.answers_max_bytes, std::size_t{32} << 20);
  EXPECT_EQ(c.trusted_proxies.ranges().size(), 2u);
  EXPECT_TRUE(c.trusted_proxies.contains(*parse_ip("10.20.30.40")));
  EXPECT_TRUE(c.trusted_proxies.contains(*parse_ip("::1")));
  EXPECT_FALSE(c.trusted_proxies.contains(*parse_ip("127.0.0.1")));
  EXPECT_EQ(c.admin_sources.ranges().size(), 1u);
  EXPECT_TRUE(c.admin_sources.contains(*parse_ip("10.244.3.7")));
  EXPECT_FALSE(c.admin_sources.contains(*parse_ip("10.20.30.40"))) << "its own list, not the trusted proxies'";
  EXPECT_EQ(c.upstream_urls[static_cast<std::size_t>(UpstreamId::Product)], "http://127.0.0.1:9101");
  EXPECT_EQ(c.upstream_urls[static_cast<std::size_t>(UpstreamId::Order)], "http://localhost:9102");
  EXPECT_EQ(c.upstream_urls[static_cast<std::size_t>(UpstreamId::Shipping)], "http://127.0.0.1:9106");
}

// The gateway warns at start of a GATEWAY_ variable nothing read (a misspelt setting): none
// of its real ones may be among them.
TEST(GatewayConfig, EverySettingIsReadSoOnlyAMisspeltOneIsLeftUnread) {
  Vars vars;
  for (const char* name : {"GATEWAY_TIMEOUT_MS", "GATEWAY_RETRY_MAX", "GATEWAY_RETRY_BASE_MS", "GATEWAY_RETRY_BUDGET_PERCENT",
                           "GATEWAY_RETRY_BUDGET_MIN_PER_SECOND", "GATEWAY_CB_WINDOW", "GATEWAY_CB_MIN_CALLS",
                           "GATEWAY_CB_FAILURE_RATE", "GATEWAY_CB_OPEN_MS", "GATEWAY_CB_HALF_OPEN_CALLS",
                           "GATEWAY_RATE_LIMIT_MAX", "GATEWAY_RATE_LIMIT_WINDOW_MS", "GATEWAY_BULKHEAD_MAX",
                           "GATEWAY_ANSWERS_MAX_BYTES", "GATEWAY_CACHE_MAX_ENTRIES", "GATEWAY_CACHE_MAX_BYTES",
                           "GATEWAY_CACHE_MAX_TTL_MS", "GATEWAY_MAX_BODY_BYTES"}) {
    vars[name] = "1000";
  }
  vars["GATEWAY_TRUSTED_PROXIES"] = vars["GATEWAY_ADMIN_SOURCES"] = "10.0.0.0/8";
  vars["GATEWAY_CORS_ALLOWED_ORIGINS"] = "https://shop.example";
  vars["GATEWAY_TIMOUT_MS_"] = "300";
  // What Kubernetes service links write for a Service named gateway: no setting, no typo.
  vars["GATEWAY_SERVICE_HOST"] = "10.96.0.10";
  vars["GATEWAY_PORT_8080_TCP_ADDR"] = "10.96.0.10";
  sales::config::Env env(vars);
  read_gateway_config(env);
  EXPECT_EQ(misspelt_settings(env), std::vector<std::string>{"GATEWAY_TIMOUT_MS_"});
}

TEST(GatewayConfig, TheSeedsRateLimitPolicyIsExpressible) {
  auto c = read({{"GATEWAY_RATE_LIMIT_MAX", "100"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "900000"}});
  EXPECT_TRUE(c.rate_limit_enabled);
  EXPECT_EQ(c.rate_limit.max, 100u);
  EXPECT_EQ(c.rate_limit.window, std::chrono::duration_cast<sales::resilience::Duration>(15min));
  EXPECT_EQ(sales::resilience::rate_limit_policy_value(c.rate_limit), "\"default\";q=100;w=900");
}

TEST(GatewayConfig, ARateLimitOfZeroTurnsTheLimiterOff) {
  auto c = read({{"GATEWAY_RATE_LIMIT_MAX", "0"}});
  EXPECT_FALSE(c.rate_limit_enabled);
}

// Each limit alone is in range; together they ask for more than the limiter can count.
TEST(GatewayConfig, ARateLimitOfMoreThanOneRequestPerNanosecondIsRefusedNotAborted) {
  auto error = error_for({{"GATEWAY_RATE_LIMIT_MAX", "1000000000"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "999"}});
  EXPECT_NE(error.find("GATEWAY_RATE_LIMIT_MAX=1000000000"), std::string::npos) << error;
  EXPECT_NE(error.find("GATEWAY_RATE_LIMIT_WINDOW_MS=999"), std::string::npos) << error;
  EXPECT_EQ(error_for({{"GATEWAY_RATE_LIMIT_MAX", "1000000000"}, {"GATEWAY_RATE_LIMIT_WINDOW_MS", "1000"}}), "");
}

TEST(GatewayConfig, AMinimumAboveTheWindowMeansAFullWindow) {
  auto c = read({{"GATEWAY_CB_WINDOW", "5"}, {"GATEWAY_CB_MIN_CALLS", "50"}});
  EXPECT_EQ(c.breaker.window_size, 5u);
  EXPECT_EQ(c.breaker.minimum_calls, 5u);
}

TEST(GatewayConfig, EachAttemptLeavesTimeForARetry) {
  EXPECT_EQ(attempt_timeout(read({{"GATEWAY_TIMEOUT_MS", "1000"}})), 500ms);
  EXPECT_EQ(attempt_timeout(read({{"GATEWAY_TIMEOUT_MS", "1000"}, {"GATEWAY_RETRY_MAX", "0"}})), 1000ms);
  EXPECT_EQ(attempt_timeout(read({{"GATEWAY_TIMEOUT_MS", "1000"},
                                  {"GATEWAY_RETRY_BUDGET_PERCENT", "0"},
                                  {"GATEWAY_RETRY_BUDGET_MIN_PER_SECOND", "0"}})),
            1000ms)
      << "a budget of nothing allows no retry";
}

struct BadValue {
  const char* var;
  const char* value;
};

// Not an integer, or outside the accepted range: refused, naming the variable and the value.
TEST(GatewayConfig, EveryInvalidNumberIsRefusedWithTheVariableNamed) {
  const BadValue cases[] = {
      {"GATEWAY_TIMEOUT_MS", "abc"},         {"GATEWAY_TIMEOUT_MS", "0"},
      {"GATEWAY_TIMEOUT_MS", "-5"},          {"GATEWAY_TIMEOUT_MS", "5s"},
      {"GATEWAY_TIMEOUT_MS", "1.5"},         {"GATEWAY_TIMEOUT_MS", "99999999999999999999"},
      {"GATEWAY_RETRY_MAX", "-1"},           {"GATEWAY_RETRY_MAX", "11"},
      {"GATEWAY_RETRY_MAX", "three"},        {"GATEWAY_RETRY_BASE_MS", "0"},
      {"GATEWAY_RETRY_BASE_MS", "x"},        {"GATEWAY_RETRY_BUDGET_PERCENT", "101"},
      {"GATEWAY_RETRY_BUDGET_PERCENT", "-1"}, {"GATEWAY_RETRY_BUDGET_PERCENT", "20%"},
      {"GATEWAY_RETRY_BUDGET_MIN_PER_SECOND", "-1"},
      {"GATEWAY_CB_WINDOW", "0"},            {"GATEWAY_CB_WINDOW", "ten"},
      {"GATEWAY_CB_MIN_CALLS", "0"},         {"GATEWAY_CB_MIN_CALLS", "1e3"},
      {"GATEWAY_CB_FAILURE_RATE", "abc"},    {"GATEWAY_CB_FAILURE_RATE", "0"},
      {"GATEWAY_CB_FAILURE_RATE", "101"},    {"GATEWAY_CB_OPEN_MS", "0"},
      {"GATEWAY_CB_OPEN_MS", "soon"},        {"GATEWAY_CB_HALF_OPEN_CALLS", "0"},
      {"GATEWAY_CB_HALF_OPEN_CALLS", "-3"},  {"GATEWAY_RATE_LIMIT_MAX", "-1"},
      {"GATEWAY_RATE_LIMIT_MAX", "many"},    {"GATEWAY_RATE_LIMIT_WINDOW_MS", "0"},
      {"GATEWAY_RATE_LIMIT_WINDOW_MS", "15m"}, {"GATEWAY_BULKHEAD_MAX", "0"},
      {"GATEWAY_BULKHEAD_MAX", "2.5"},       {"GATEWAY_MAX_BODY_BYTES", "1023"},
      {"GATEWAY_MAX_CONNECTIONS_PER_CLIENT", "-1"}, {"GATEWAY_MAX_CONNECTIONS_PER_CLIENT", "1000001"},
      {"GATEWAY_MAX_BODY_BYTES", "1MB"},     {"GATEWAY_MAX_BODY_BYTES", "999999999999"},
      {"GATEWAY_ANSWERS_MAX_BYTES", "16777215"},  // below one answer of the largest size
      {"GATEWAY_ANSWERS_MAX_BYTES", "64MiB"},
      {"GATEWAY_TIMEOUT_MS", "100 "},        {"GATEWAY_TIMEOUT_MS", " 100"},
      {"GATEWAY_TIMEOUT_MS", "+200"},        {"GATEWAY_TIMEOUT_MS", "0x10"},
  };
  for (const auto& c : cases) {
    auto message = error_for({{c.var, c.value}});
    EXPECT_NE(message.find(std::string(c.var) + "='" + c.value + "'"), std::string::npos)
        << c.var << "=" << c.value << " gave: '" << message << "'";
  }
}

TEST(GatewayConfig, AnEmptyTrustedProxiesListTrustsNobody) {
  EXPECT_TRUE(read({{"GATEWAY_TRUSTED_PROXIES", ""}}).trusted_proxies.empty());
}

TEST(GatewayConfig, AnEmptyAdminSourcesListLimitsNobody) {
  EXPECT_TRUE(read({{"GATEWAY_ADMIN_SOURCES", ""}}).admin_sources.empty());
}

// Commas and blanks only look set (`${PROM_CIDR},` with the variable unset) but list
// nothing: for GATEWAY_ADMIN_SOURCES, anyone. Refused, as no one means that.
TEST(GatewayConfig, AListOfOnlySeparatorsIsRefused) {
  for (std::string var : {"GATEWAY_ADMIN_SOURCES", "GATEWAY_TRUSTED_PROXIES", "GATEWAY_CORS_ALLOWED_ORIGINS"}) {
    for (std::string value : {",", " ", " , ", ",,"}) {
      auto message = error_for({{var, value}});
      EXPECT_NE(message.find(var + "='" + value + "' lists nothing"), std::string::npos) << var << "='" << value << "' gave: '" << message << "'";
    }
  }
}

// GATEWAY_TRUSTED_PROXIES and GATEWAY_ADMIN_SOURCES: one syntax, each error naming its own
// variable.
TEST(GatewayConfig, EveryInvalidAddressListEntryIsRefusedWithTheVariableAndEntryNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.0.0.0/33", "10.0.0.0/33"},          {"127.0.0.1,ingress-nginx", "ingress-nginx"},
      {"10.0.0.0/8;::1", "10.0.0.0/8;::1"},    {"::1/129", "::1/129"},
      {"10.1.0.0/8", "10.1.0.0/8"},            {"10.0.0.0/8, 192.168.1", "192.168.1"},
      {"localhost", "localhost"},              {"*", "*"},
  };
  for (std::string var : {"GATEWAY_TRUSTED_PROXIES", "GATEWAY_ADMIN_SOURCES"}) {
    for (const auto& [value, entry] : cases) {
      auto message = error_for({{var, value}});
      EXPECT_NE(message.find(var + "='" + value + "'"), std::string::npos) << var << "=" << value << " gave: '" << message << "'";
      EXPECT_NE(message.find(std::string("'") + entry + "'"), std::string::npos)
          << var << "=" << value << " gave: '" << message << "'";
    }
  }
}

TEST(GatewayConfig, EveryInvalidUpstreamUrlIsRefusedWithTheVariableNamed) {
  const char* vars[] = {"PRODUCT_SERVICE_URL", "ORDER_SERVICE_URL",     "CUSTOMER_SERVICE_URL",
                        "PAYMENT_SERVICE_URL", "INVENTORY_SERVICE_URL", "SHIPPING_SERVICE_URL"};
  const char* bad[] = {"127.0.0.1:8001",
                       "ftp://127.0.0.1:8001",
                       "https://127.0.0.1:8001",
                       "http://127.0.0.1",
                       "http://:8001",
                       "http://127.0.0.1:0",
                       "http://127.0.0.1:65536",
                       "http://127.0.0.1:port",
                       "http://127.0.0.1:8001/api",
                       "http://127.0.0.1:80O1",
                       "http://127.0.0.1:8001junk",
                       "http://127.0.0.1:8001 ",
                       "http://127.0.0.1:+8001",
                       "http://user@127.0.0.1:8001",
                       "http://127.0.0.1:8001?x=1"};
  for (const char* var : vars) {
    for (const char* url : bad) {
      auto message = error_for({{var, url}});
      EXPECT_NE(message.find(var), std::string::npos) << var << "=" << url << " gave: '" << message << "'";
    }
  }
}

// Empty is unset (Compose writes an unset shell variable so): the default address.
TEST(GatewayConfig, AnEmptyUpstreamUrlIsTheDefault) {
  EXPECT_EQ(error_for({{"PRODUCT_SERVICE_URL", ""}}), "");
}

// Every error is reported at once, so one start tells the operator everything to fix.
TEST(GatewayConfig, AllErrorsAreReportedTogether) {
  auto message = error_for({{"GATEWAY_TIMEOUT_MS", "0"},
                            {"GATEWAY_CB_FAILURE_RATE", "abc"},
                            {"CUSTOMER_SERVICE_URL", "customer:8003"}});
  EXPECT_NE(message.find("GATEWAY_TIMEOUT_MS"), std::string::npos) << message;
  EXPECT_NE(message.find("GATEWAY_CB_FAILURE_RATE"), std::string::npos) << message;
  EXPECT_NE(message.find("CUSTOMER_SERVICE_URL"), std::string::npos) << message;
}

// The upstream client connects to an IP address (localhost is mapped to 127.0.0.1) and
// resolves no names: a URL naming a host must be refused at start, not accepted and then
// turned into a 500 on every request (and on GET /health).
TEST(GatewayConfig, UpstreamsMayBeNamedByHostOrAddress) {
  // Containers and Kubernetes name services by host name; the pool resolves them.
  for (const char* url : {"http://product-service:8001", "http://localhost:8001", "http://10.1.2.3:8001"}) {
    EXPECT_EQ(error_for({{"PRODUCT_SERVICE_URL", url}}), "") << url;
  }
}

}  // namespace
}  // namespace gateway

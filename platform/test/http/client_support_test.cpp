#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sales/config/config.hpp"
#include "sales/http/client.hpp"

namespace sales::http {
namespace {

TEST(BaseUrlFromEnv, TakesAValidUrlOrTheFallback) {
  config::Env env(std::map<std::string, std::string>{{"ORDER_SERVICE_URL", "http://order:8002"}});
  EXPECT_EQ(base_url_from_env(env, "ORDER_SERVICE_URL", "http://127.0.0.1:8002"), "http://order:8002");
  EXPECT_EQ(base_url_from_env(env, "CUSTOMER_SERVICE_URL", "http://127.0.0.1:8003"), "http://127.0.0.1:8003");
  EXPECT_NO_THROW(env.finish());
}

TEST(BaseUrlFromEnv, AnInvalidUrlIsReportedAndTheFallbackKept) {
  config::Env env(std::map<std::string, std::string>{{"ORDER_SERVICE_URL", "order:8002"}});
  EXPECT_EQ(base_url_from_env(env, "ORDER_SERVICE_URL", "http://127.0.0.1:8002"), "http://127.0.0.1:8002");
  try {
    env.finish();
    FAIL() << "an invalid URL must stop the service at start";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("ORDER_SERVICE_URL: URL must start with http://"), std::string::npos)
        << e.what();
  }
}

TEST(ForwardTrace, CarriesTheRequestIdAndATraceparentWhenThereIsOne) {
  Request cause;
  cause.headers.set("X-Request-Id", "req-1");
  Headers headers;
  headers.set("Accept", "application/json");
  forward_trace(cause, headers);
  EXPECT_EQ(headers.get("X-Request-Id"), "req-1");
  EXPECT_FALSE(headers.get("traceparent").has_value());
  EXPECT_EQ(headers.get("Accept"), "application/json");

  cause.headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  forward_trace(cause, headers);
  EXPECT_EQ(headers.get("traceparent"), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

}  // namespace
}  // namespace sales::http

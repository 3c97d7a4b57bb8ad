#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sales/config/config.hpp"
#include "sales/service/app.hpp"

namespace sales::service {
namespace {

using Values = std::map<std::string, std::string>;

std::string error_of(config::Env& env) {
  try {
    env.finish();
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(BrokerSettings, ALocalBrokerMayUseTheDefaultGuestUser) {
  config::Env env({});
  auto b = read_broker_settings(env);
  EXPECT_EQ(b.host, "127.0.0.1");
  EXPECT_EQ(b.user, "guest");
  EXPECT_EQ(error_of(env), "");
  for (const char* local : {"localhost", "::1", "127.0.0.53"}) {
    config::Env named_host(Values{{"RABBITMQ_HOST", local}});
    read_broker_settings(named_host);
    EXPECT_EQ(error_of(named_host), "") << local << " is this machine";
  }
}

// RabbitMQ lets guest in from localhost only: a remote broker with no user set would refuse
// every connection while the service reported itself ready.
TEST(BrokerSettings, ARemoteBrokerNeedsAUserNamed) {
  config::Env env(Values{{"RABBITMQ_HOST", "rabbitmq"}});
  read_broker_settings(env);
  EXPECT_NE(error_of(env).find("RABBITMQ_USER is not set"), std::string::npos);

  config::Env named(Values{{"RABBITMQ_HOST", "rabbitmq"}, {"RABBITMQ_USER", "sales"}, {"RABBITMQ_PASSWORD", "x"}});
  EXPECT_EQ(read_broker_settings(named).user, "sales");
  EXPECT_EQ(error_of(named), "");

  config::Env guest_on_purpose(Values{{"RABBITMQ_HOST", "10.0.0.7"}, {"RABBITMQ_USER", "guest"}});
  read_broker_settings(guest_on_purpose);
  EXPECT_EQ(error_of(guest_on_purpose), "") << "a broker may allow guest remotely; naming it is a choice";
}

}  // namespace
}  // namespace sales::service

// The cap on client connections (ServerOptions::max_connections, HTTP_MAX_CONNECTIONS): one
// over it is told so, a 503 problem with Retry-After, and closed, not dropped without a word;
// it is counted; room comes back as held connections close. Both servers share the listener.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sales/http/async_server.hpp"
#include "sales/http/server.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/metrics_text.hpp"
#include "sales_test/raw_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = sales::http;
using sales_test::RawClient;

constexpr std::string_view kPlainGet = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";

std::unique_ptr<http::Server> capped_server(bool async, sales::metrics::Registry& registry) {
  http::ServerOptions o;
  o.threads = 2;
  o.max_connections = 1;
  o.service = "capped";
  if (!async) {
    return std::make_unique<http::Server>(o, [](http::Request&) { return http::Response::json(200, "{}"); }, &registry);
  }
  return http::make_async_server(
      o, [](http::Request&) -> boost::asio::awaitable<http::Response> { co_return http::Response::json(200, "{}"); },
      &registry, /*loop_per_thread=*/true);
}

void expect_refused(const std::string& got, bool closed) {
  EXPECT_EQ(got.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\r\nRetry-After: 1\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\nConnection: close\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\nContent-Type: application/problem+json\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\nX-Request-Id: "), std::string::npos) << got;
  EXPECT_NE(got.find("\"status\":503"), std::string::npos) << got;
  EXPECT_TRUE(closed) << "a refused connection is closed: " << got;
}

class ServerConnectionCap : public ::testing::TestWithParam<bool> {};

TEST_P(ServerConnectionCap, OneOverTheCapIsAnswered503AndRoomComesBack) {
  sales::metrics::Registry registry;
  auto server = capped_server(GetParam(), registry);
  server->start();
  std::optional<RawClient> held(std::in_place, server->port());
  held->send(kPlainGet);
  const auto first = held->read_for(1s);
  ASSERT_EQ(first.rfind("HTTP/1.1 200 ", 0), 0u) << first;  // kept alive: it holds the one place

  bool closed = false;
  RawClient asking(server->port());  // its request arrives before, or after, the refusal
  asking.send(kPlainGet);
  std::string got = asking.read_for(2s, &closed);
  expect_refused(got, closed);
  RawClient silent(server->port());  // sends nothing: told all the same
  got = silent.read_for(2s, &closed);
  expect_refused(got, closed);
  EXPECT_EQ(sales_test::metric_sum(registry.render(), "http_connections_refused_total", {{"service", "capped"}}), 2);

  held.reset();  // its place comes free once the server sees it closed
  EXPECT_TRUE(sales_test::eventually([&] {
    RawClient next(server->port());
    next.send(kPlainGet);
    return next.read_for(1s).rfind("HTTP/1.1 200 ", 0) == 0;
  })) << "no room came back after the held connection closed";
  server->stop();
}

INSTANTIATE_TEST_SUITE_P(BlockingAndAsync, ServerConnectionCap, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "async" : "blocking"; });

// One client (as `connection_client` names it) holds at most its share: its next connection
// is answered 429 and closed, while another client still gets in; a peer given no name (a
// trusted proxy) is not counted.
TEST(ServerConnectionCapPerClient, AClientOverItsShareIsAnswered429AndOthersStillGetIn) {
  sales::metrics::Registry registry;
  http::ServerOptions o;
  o.threads = 2;
  o.service = "capped";
  o.max_connections_per_client = 2;
  o.connection_client = [](const std::string& peer) -> std::optional<std::string> {
    if (peer == "127.0.0.3") return std::nullopt;  // as a trusted proxy
    return peer;
  };
  auto server = http::make_async_server(
      o, [](http::Request&) -> boost::asio::awaitable<http::Response> { co_return http::Response::json(200, "{}"); },
      &registry, /*loop_per_thread=*/true);
  server->start();
  auto served = [&](RawClient& c) {
    c.send(kPlainGet);
    return c.read_for(300ms).rfind("HTTP/1.1 200 ", 0) == 0;  // the answer, then 300 ms of a kept connection's silence
  };
  RawClient first(server->port());
  std::optional<RawClient> second(std::in_place, server->port());
  ASSERT_TRUE(served(first));
  ASSERT_TRUE(served(*second));

  RawClient third(server->port());
  third.send(kPlainGet);
  bool closed = false;
  const std::string got = third.read_for(2s, &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\r\nRetry-After: 1\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\nContent-Type: application/problem+json\r\n"), std::string::npos) << got;
  EXPECT_TRUE(closed) << got;

  RawClient other(server->port(), 0, "127.0.0.2");
  EXPECT_TRUE(served(other)) << "another client has its own share";
  std::vector<std::unique_ptr<RawClient>> proxied;
  for (int i = 0; i < 4; ++i) {
    proxied.push_back(std::make_unique<RawClient>(server->port(), 0, "127.0.0.3"));
    EXPECT_TRUE(served(*proxied.back())) << "a peer not counted: connection " << i;
  }
  EXPECT_EQ(sales_test::metric_sum(registry.render(), "http_connections_refused_total", {{"cap", "client"}}), 1);
  EXPECT_EQ(sales_test::metric_sum(registry.render(), "http_connections_refused_total", {{"cap", "server"}}), 0);

  second.reset();  // its place comes back once the server sees it closed
  EXPECT_TRUE(sales_test::eventually([&] {
    RawClient again(server->port());
    return served(again);
  })) << "no place came back after one of the client's connections closed";
  server->stop();
}

}  // namespace

// How a connection ends: a server that stops closes what it keeps (a kept-alive connection
// waiting for its next request at once, since a client's pool would otherwise write requests
// into it that nobody reads, until their deadline; a request in hand after its answer, sent
// with Connection: close), and an error outside any handler is counted, not lost.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "sales/http/server.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/metrics_text.hpp"
#include "sales_test/raw_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = sales::http;
using sales_test::RawClient;

constexpr std::string_view kGet = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(ServerStop, AKeptAliveConnectionWaitingForItsNextRequestIsClosed) {
  http::ServerOptions o;
  o.threads = 2;
  http::Server server(o, [](http::Request&) { return http::Response::json(200, "{}"); });
  server.start();
  RawClient kept(server.port());
  kept.send(std::string(kGet));
  const auto first = kept.read_for(300ms);
  ASSERT_EQ(first.rfind("HTTP/1.1 200 ", 0), 0u) << first;
  ASSERT_EQ(first.find("Connection: close"), std::string::npos) << "kept alive before the stop";

  server.stop();
  bool closed = false;
  kept.read_for(2s, &closed);
  EXPECT_TRUE(closed) << "the stopped server left the kept-alive connection open";
}

TEST(ServerStop, ARequestInHandIsAnsweredWithConnectionClose) {
  http::ServerOptions o;
  o.threads = 2;
  std::atomic<bool> handling{false};
  http::Server server(o, [&](http::Request&) {
    handling = true;
    std::this_thread::sleep_for(800ms);  // time for the stop to begin while it is in hand
    return http::Response::json(200, "{}");
  });
  server.start();
  RawClient client(server.port());
  client.send(std::string(kGet));
  while (!handling) std::this_thread::sleep_for(1ms);
  std::thread stopper([&] { server.stop(); });
  bool closed = false;
  const auto answer = client.read_for(3s, &closed);
  stopper.join();
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(closed);
}

// An error outside any handler (here the answer's hook throws) ends the connection; it is
// counted (and logged), not lost without a trace.
TEST(ServerErrors, AnErrorOutsideTheHandlerIsCounted) {
  sales::metrics::Registry registry;
  http::ServerOptions o;
  o.threads = 1;
  o.decorate_answer = [](const http::Request&, http::Response&) { throw std::runtime_error("a hook failed"); };
  http::Server server(o, [](http::Request&) { return http::Response::json(200, "{}"); }, &registry);
  server.start();
  RawClient client(server.port());
  client.send(std::string(kGet));
  bool closed = false;
  client.read_for(2s, &closed);
  EXPECT_TRUE(closed);
  // Counted as the coroutine completes, just after its socket closed.
  EXPECT_TRUE(sales_test::eventually([&] { return sales_test::metric_sum(registry.render(), "http_server_errors_total") == 1; }));
  server.stop();
}

}  // namespace

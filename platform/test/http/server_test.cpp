// The server over a real socket: the hand-written response head, and the per-connection
// deadline (Watchdog) — a slow client is cut off, an idle keep-alive connection closed, and
// a handler slower than the read deadline still gets its answer out.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <ctime>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "sales/http/async_server.hpp"
#include "sales/http/http_date.hpp"
#include "sales/http/server.hpp"
#include "sales/pg/pool.hpp"
#include "sales/problem/problem.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales_test/metrics_text.hpp"
#include "sales_test/raw_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = sales::http;

using sales_test::RawClient;

http::ServerOptions quick_deadlines() {
  http::ServerOptions o;
  o.threads = 2;
  o.read_timeout = 300ms;
  o.write_timeout = 300ms;
  o.idle_timeout = 600ms;
  return o;
}

// The bytes a server with `handler` answers to `request` on a fresh connection.
std::string raw_exchange(http::Handler handler, std::string_view request) {
  http::Server server(quick_deadlines(), std::move(handler));
  server.start();
  RawClient c(server.port());
  c.send(request);
  return c.read_for(200ms);
}

// The gateway's loops share their port (SO_REUSEPORT), which another process could join
// unnoticed: a port someone listens on fails the start, as for every other service.
TEST(Server, TheGatewaysServerRefusesAPortInUse) {
  auto answer = [](http::Request&) -> boost::asio::awaitable<http::Response> { co_return http::Response::json(200, "{}"); };
  auto first = http::make_async_server({.port = 0, .threads = 2}, answer, nullptr, /*loop_per_thread=*/true);
  first->start();
  auto second = http::make_async_server({.port = first->port(), .threads = 2}, answer, nullptr, true);
  EXPECT_THROW(second->start(), std::exception);
  http::Server plain({.port = 0, .threads = 1}, [](http::Request&) { return http::Response::json(200, "{}"); });
  plain.start();
  auto third = http::make_async_server({.port = plain.port(), .threads = 2}, answer, nullptr, true);
  EXPECT_THROW(third->start(), std::exception);
  plain.stop();
  first->stop();
}

TEST(Server, TheResponseHeadCarriesStatusFieldsAndLength) {
  auto got = raw_exchange(
      [](http::Request&) {
        auto r = http::Response::json(201, R"({"ok":true})");
        r.headers.set("Location", "/things/1");
        return r;
      },
      "POST /things HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\r\nLocation: /things/1\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"), std::string::npos) << got;
  EXPECT_EQ(got.find("Connection: close"), std::string::npos) << got;
}

// RFC 9110 §6.6.1: an origin server with a clock sends Date in every answer, once; a Date
// the handler gave (the gateway passing on a service's answer) is the one sent.
TEST(Server, EveryAnswerHasOneDateTheHandlersIfItGaveOne) {
  const std::time_t before = std::time(nullptr);
  auto got = raw_exchange([](http::Request&) { return http::Response::json(200, "{}"); },
                          "GET /things/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::time_t after = std::time(nullptr);
  const auto at = got.find("\r\nDate: ");
  ASSERT_NE(at, std::string::npos) << got;
  EXPECT_EQ(got.find("\r\nDate: ", at + 1), std::string::npos) << "one Date: " << got;
  const std::string value = got.substr(at + 8, got.find("\r\n", at + 2) - (at + 8));
  EXPECT_TRUE(value == http::imf_fixdate(before) || value == http::imf_fixdate(after)) << value;

  auto given = raw_exchange(
      [](http::Request&) {
        auto r = http::Response::json(200, "{}");
        r.headers.set("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
        return r;
      },
      "GET /things/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(given.find("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), std::string::npos) << given;
  EXPECT_EQ(given.find("Date: ", given.find("Date: ") + 1), std::string::npos) << "one Date: " << given;

  // The refusals the server writes itself have one too.
  auto refused = raw_exchange([](http::Request&) { return http::Response::json(200, "{}"); },
                              "GET /things/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(refused.rfind("HTTP/1.1 501 ", 0), 0u) << refused;
  EXPECT_NE(refused.find("\r\nDate: "), std::string::npos) << refused;
}

TEST(Server, ANoContentAnswerHasNoBodyAndNoLength) {
  auto got = raw_exchange(
      [](http::Request&) {
        auto r = http::Response::empty(204);
        r.body = "ignored";
        return r;
      },
      "DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << got;
  EXPECT_EQ(got.find("Content-Length"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 4), "\r\n\r\n") << got;
}

// DESIGN §2: never a 500 for bad input, and a 500 never leaks internals. What a handler
// throws that nobody caught (a bug, a database error that is not the client's) is a 500
// problem that says nothing of it, with the request's id so the log line can be found.
TEST(Server, AnUncaughtErrorIsA500ProblemThatLeaksNothing) {
  const std::string secret = "relation \"orders_secret_table\" does not exist at /srv/app/store.cpp:42";
  for (int kind = 0; kind < 2; ++kind) {
    auto got = raw_exchange(
        [&](http::Request&) -> http::Response {
          if (kind == 0) throw std::runtime_error(secret);
          throw sales::pg::Error(secret, "42P01");  // undefined_table: not transient
        },
        "GET /things/1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: find-me-in-the-log\r\n\r\n");
    EXPECT_EQ(got.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << got;
    EXPECT_NE(got.find("\r\nContent-Type: application/problem+json\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("\r\nX-Request-Id: find-me-in-the-log\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("\"status\":500"), std::string::npos) << got;
    for (std::string_view leak : {"orders_secret_table", "store.cpp", "/srv/", "42P01", "relation"}) {
      EXPECT_EQ(got.find(leak), std::string::npos) << "leaks '" << leak << "': " << got;
    }
  }
}

// RFC 9110 §8.6 and §9.3.2: an answer to HEAD is the GET's head, with the GET body's length
// when it is known and none otherwise, and never a body (it would be read as the start of
// the next answer on a keep-alive connection).
TEST(Server, AnAnswerToHeadHasTheGetsLengthAndNoBody) {
  auto got = raw_exchange([](http::Request&) { return http::Response::json(200, R"({"ok":true})"); },
                          "HEAD /things/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /things/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  auto second = got.find("HTTP/1.1 200 OK", 1);
  ASSERT_NE(second, std::string::npos) << "the GET after the HEAD on the same connection: " << got;
  std::string first = got.substr(0, second);
  EXPECT_NE(first.find("\r\nContent-Length: 11\r\n"), std::string::npos) << first;
  EXPECT_EQ(first.substr(first.size() - 4), "\r\n\r\n") << "no body after the HEAD's head: " << first;
  EXPECT_NE(got.find("\r\n\r\n{\"ok\":true}", second), std::string::npos) << got;

  // Nothing to count and no length declared: no Content-Length.
  auto unknown = raw_exchange([](http::Request&) { return http::Response::json(200, ""); },
                              "HEAD /things/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(unknown.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << unknown;
  EXPECT_EQ(unknown.find("Content-Length"), std::string::npos) << unknown;

  // A proxy passing on an upstream's HEAD answer: the length the upstream declared.
  auto declared = raw_exchange(
      [](http::Request&) {
        auto r = http::Response::json(200, "");
        r.head_length = 183;
        return r;
      },
      "HEAD /things/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(declared.find("\r\nContent-Length: 183\r\n"), std::string::npos) << declared;
  EXPECT_EQ(declared.substr(declared.size() - 4), "\r\n\r\n") << "still no body: " << declared;
}

// ServerOptions::decorate_answer sees every answer the server writes, its own refusals too:
// what the gateway's CORS fields depend on (a script cannot read an answer without them).
TEST(Server, TheAnswerHookSeesEveryAnswerItsOwnRefusalsToo) {
  http::ServerOptions o = quick_deadlines();
  o.body_limit = 64;
  o.header_limit = 1024;
  o.decorate_answer = [](const http::Request& req, http::Response& res) {
    res.headers.set("X-Seen", "[" + req.method + " " + std::string(req.path()) + " " +
                                  std::string(req.headers.get("Origin").value_or("-")) + "]");
  };
  http::Server server(o, [](http::Request& req) -> http::Response {
    if (req.path() == "/missing") throw sales::ProblemError(sales::Problem::not_found("No such thing."));
    return http::Response::json(200, "{}");
  });
  server.start();
  auto answer = [&](const std::string& request) {
    RawClient c(server.port());
    c.send(request);
    return c.read_for(300ms);
  };
  const std::string origin = "Origin: https://shop.example\r\n";
  EXPECT_NE(answer("GET /a HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n").find("X-Seen: [GET /a https://shop.example]"),
            std::string::npos);
  EXPECT_NE(answer("GET /missing HTTP/1.1\r\nHost: x\r\n" + origin + "\r\n").find("X-Seen: [GET /missing https://shop.example]"),
            std::string::npos) << "a thrown problem";
  auto too_big = answer("POST /big HTTP/1.1\r\nHost: x\r\n" + origin + "Content-Length: 100\r\n\r\n" + std::string(100, 'x'));
  EXPECT_EQ(too_big.rfind("HTTP/1.1 413", 0), 0u) << too_big;
  EXPECT_NE(too_big.find("X-Seen: [POST /big https://shop.example]"), std::string::npos) << too_big;
  auto huge_head = answer("GET /a HTTP/1.1\r\nHost: x\r\n" + origin + "X-Big: " + std::string(2000, 'b') + "\r\n\r\n");
  EXPECT_EQ(huge_head.rfind("HTTP/1.1 431", 0), 0u) << huge_head.substr(0, 200);
  EXPECT_NE(huge_head.find("X-Seen: [  -]"), std::string::npos) << "an empty request: " << huge_head.substr(0, 300);
  auto garbage = answer("GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  EXPECT_NE(garbage.find("X-Seen: [  -]"), std::string::npos) << garbage;
  server.stop();
}

TEST(Server, HeadersOverTheLimitAre431WithAProblemOfItsOwnType) {
  http::ServerOptions o = quick_deadlines();
  http::Server server(o, [](http::Request&) { return http::Response::json(200, "{}"); });
  server.start();
  RawClient c(server.port());
  c.send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(o.header_limit + 10, 'b') + "\r\n\r\n");
  bool closed = false;
  auto got = c.read_for(500ms, &closed);
  EXPECT_EQ(got.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << got.substr(0, 200);
  EXPECT_NE(got.find("application/problem+json"), std::string::npos) << got;
  EXPECT_NE(got.find(R"("type":"urn:sales:problem:headers-too-large")"), std::string::npos) << got;
  EXPECT_TRUE(closed);
}

TEST(Server, AClientThatStopsMidHeaderIsCutOffAfterTheReadDeadline) {
  http::Server server(quick_deadlines(), [](http::Request&) { return http::Response::json(200, "{}"); });
  server.start();
  RawClient c(server.port());
  auto started = std::chrono::steady_clock::now();
  c.send("GET / HTTP/1.1\r\nHost: x\r\n");  // never finishes the head
  bool closed = false;
  auto got = c.read_for(3000ms, &closed);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(closed);
  EXPECT_TRUE(got.empty()) << got;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2000ms);
}

TEST(Server, AnIdleKeepAliveConnectionIsClosedAfterTheIdleDeadline) {
  http::Server server(quick_deadlines(), [](http::Request&) { return http::Response::json(200, "{}"); });
  server.start();
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = c.read_for(100ms);
  ASSERT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  // Still open after the read deadline (300 ms): between requests the idle one (600 ms) applies.
  std::this_thread::sleep_for(400ms);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto second = c.read_for(100ms);
  ASSERT_EQ(second.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << second;
  auto idle_from = std::chrono::steady_clock::now();
  bool closed = false;
  c.read_for(3000ms, &closed);
  auto idle = std::chrono::steady_clock::now() - idle_from;
  EXPECT_TRUE(closed);
  EXPECT_GE(idle, 400ms);  // 600 ms from the answer, which arrived up to 100 ms before idle_from
  EXPECT_LT(idle, 2000ms);
}

// The idle deadline is for a connection that sends nothing: once the next request's first
// byte comes, its header has the read deadline, as the first request's has.
TEST(Server, ASecondRequestStoppedMidHeaderIsCutOffAfterTheReadDeadline) {
  auto o = quick_deadlines();
  o.idle_timeout = 5000ms;  // longer than the read below waits
  http::Server server(o, [](http::Request&) { return http::Response::json(200, "{}"); });
  server.start();
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = c.read_for(100ms);
  ASSERT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  c.send("GET / HTTP/1.1\r\nHost: x\r\n");  // never finishes the head
  bool closed = false;
  auto got = c.read_for(3000ms, &closed);
  EXPECT_TRUE(closed) << "still open after 3 s: the idle deadline (5 s) held the header";
  EXPECT_TRUE(got.empty()) << got;
}

TEST(Server, AHandlerSlowerThanTheReadDeadlineStillAnswers) {
  http::Server server(quick_deadlines(), [](http::Request&) {
    std::this_thread::sleep_for(700ms);  // > read (300 ms) and idle (600 ms) deadlines
    return http::Response::json(200, R"({"slow":true})");
  });
  server.start();
  RawClient c(server.port());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto got = c.read_for(2000ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.find(R"({"slow":true})"), std::string::npos) << got;
}

}  // namespace

namespace {

int request_id_fields(const http::Response& res) {
  int n = 0;
  for (const auto& [name, value] : res.headers.fields()) n += http::iequals(name, "X-Request-Id") ? 1 : 0;
  return n;
}

// Slow uploads on many connections cannot make the server hold more bodies than it may:
// bytes are counted as they arrive, the request that would pass the limit is refused, and
// the room comes back with answers. A header that only declares a body holds nothing.
TEST(Server, BodiesBeyondWhatTheServerMayHoldAre503UntilRoomComesBack) {
  sales::metrics::Registry registry;
  http::ServerOptions o = quick_deadlines();
  o.read_timeout = 5s;
  o.body_limit = 1000;
  o.bodies_limit = 1500;
  http::Server server(o, [](http::Request& r) { return http::Response::json(200, std::to_string(r.body.size())); },
                      &registry);
  server.start();
  auto post = [](std::size_t declared, std::size_t sent) {
    return "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(declared) + "\r\n\r\n" +
           std::string(sent, 'b');
  };
  RawClient silent(server.port());
  silent.send(post(1000, 0));  // declares 1,000 bytes, sends none: holds nothing
  RawClient slow(server.port());
  slow.send(post(1000, 900));  // 900 of its 1,000 bytes arrive, then it stalls
  std::this_thread::sleep_for(500ms);

  RawClient refused(server.port());
  refused.send(post(700, 700));  // 900 + 700 > 1,500
  auto got = refused.read_for(500ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 503 ", 0), 0u) << got;
  EXPECT_NE(got.find("\r\nRetry-After: 1\r\n"), std::string::npos) << got;
  RawClient small(server.port());  // what fits still goes
  small.send(post(500, 500));
  EXPECT_EQ(small.read_for(500ms).rfind("HTTP/1.1 200 ", 0), 0u);

  slow.send(std::string(100, 'b'));
  auto done = slow.read_for(500ms);
  EXPECT_EQ(done.rfind("HTTP/1.1 200 ", 0), 0u) << done;
  RawClient again(server.port());
  again.send(post(700, 700));
  EXPECT_EQ(again.read_for(500ms).rfind("HTTP/1.1 200 ", 0), 0u);
  EXPECT_EQ(sales_test::metric_sum(registry.render(), "http_bodies_refused_total"), 1);
}

// A method is any token to the parser; the metrics must not keep a series for each.
TEST(Server, MethodsNobodyRegisteredShareOneMetricsLabel) {
  sales::metrics::Registry registry;
  http::Server server(quick_deadlines(), [](http::Request&) { return http::Response::json(200, "{}"); }, &registry);
  server.start();
  RawClient c(server.port());
  c.send(
      "A0001 /x HTTP/1.1\r\nHost: x\r\n\r\n"
      "A0002 /x HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  int answers = 0;
  for (int tries = 0; answers < 3 && tries < 20; ++tries) {
    got += c.read_for(100ms);
    answers = 0;
    for (auto at = got.find("HTTP/1.1 200 OK"); at != std::string::npos; at = got.find("HTTP/1.1 200 OK", at + 1)) ++answers;
  }
  EXPECT_EQ(answers, 3) << got;
  auto text = registry.render();
  EXPECT_EQ(sales_test::metric_sum(text, "http_requests_total", {{"method", "other"}}), 2) << text;
  EXPECT_EQ(sales_test::metric_sum(text, "http_requests_total", {{"method", "GET"}}), 1) << text;
  EXPECT_EQ(text.find("A000"), std::string::npos) << text;
}

TEST(Server, EveryAnswerCarriesExactlyTheRequestsId) {
  http::Request req;
  req.headers.set("X-Request-Id", "req-1");

  http::Response bare;
  http::finalize_response(req, bare);
  EXPECT_EQ(bare.headers.get("X-Request-Id"), "req-1");

  http::Response echoed;  // a proxied answer that already carries it
  echoed.headers.add("x-request-id", "req-1");
  http::finalize_response(req, echoed);
  EXPECT_EQ(echoed.headers.get("X-Request-Id"), "req-1");
  EXPECT_EQ(request_id_fields(echoed), 1);

  http::Response other;
  other.headers.add("X-Request-Id", "someone-else");
  http::finalize_response(req, other);
  EXPECT_EQ(other.headers.get("X-Request-Id"), "req-1");
  EXPECT_EQ(request_id_fields(other), 1);

  http::Response twice;
  twice.headers.add("X-Request-Id", "req-1");
  twice.headers.add("X-Request-Id", "req-1");
  http::finalize_response(req, twice);
  EXPECT_EQ(request_id_fields(twice), 1);
}

TEST(Server, AGeneratedRequestIdIs32RandomLowerCaseHexDigits) {
  std::set<std::string> seen;
  std::array<int, 16> digit_count{};
  for (int i = 0; i < 1000; ++i) {
    auto id = http::make_request_id();
    ASSERT_EQ(id.size(), 32u);
    for (char c : id) {
      auto at = std::string_view("0123456789abcdef").find(c);
      ASSERT_NE(at, std::string_view::npos) << id;
      ++digit_count[at];
    }
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  // 32,000 digits: every one of the sixteen turns up about 2,000 times.
  for (int n : digit_count) EXPECT_GT(n, 1500);
}

}  // namespace

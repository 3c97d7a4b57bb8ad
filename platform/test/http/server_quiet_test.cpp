// A service's server between requests: a kept-alive connection reads its next request
// however its bytes come, and a quiet server calls on_quiet once per quiet spell (the
// services give their freed heap back there).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "sales/http/server.hpp"
#include "sales_test/eventually.hpp"
#include "sales_test/raw_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = sales::http;

using sales_test::RawClient;

http::ServerOptions options() {
  http::ServerOptions o;
  o.threads = 2;
  o.read_timeout = 2000ms;
  o.idle_timeout = 5000ms;
  return o;
}

http::Response echo_target(http::Request& req) { return http::Response::json(200, "\"" + req.target + "\""); }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The first byte of the next request wakes the waiting connection; the rest, sent later,
// completes the request as one read would have.
TEST(ServerIdleConnection, ARequestWhoseFirstByteComesAloneIsStillReadWhole) {
  http::Server server(options(), echo_target);
  server.start();
  RawClient c(server.port());
  c.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(c.read_for(300ms).find("\"/first\""), std::string::npos);
  std::this_thread::sleep_for(100ms);  // idle: the connection waits for its next request
  c.send("G");
  std::this_thread::sleep_for(100ms);
  c.send("ET /second HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  auto got = c.read_for(300ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\"/second\""), std::string::npos) << got;
}

// Requests sent together are answered in order: the bytes of the next one are already
// buffered when the first is answered.
TEST(ServerIdleConnection, PipelinedRequestsAreAllAnsweredInOrder) {
  http::Server server(options(), echo_target);
  server.start();
  RawClient c(server.port());
  c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  for (int i = 0; i < 10 && count_of(got, "HTTP/1.1 200 OK") < 3; ++i) got += c.read_for(100ms);
  ASSERT_EQ(count_of(got, "HTTP/1.1 200 OK"), 3u) << got;
  auto a = got.find("\"/a\""), b = got.find("\"/b\""), cc = got.find("\"/c\"");
  ASSERT_NE(cc, std::string::npos) << got;
  EXPECT_LT(a, b);
  EXPECT_LT(b, cc);
}

// options() with a quiet watch of 100 ms whose calls are counted in `calls`.
http::ServerOptions quiet_options(std::atomic<int>& calls) {
  auto o = options();
  o.quiet_after = 100ms;
  o.on_quiet = [&calls] { ++calls; };
  return o;
}

struct QuietServer {
  std::atomic<int> calls{0};
  http::Server server{quiet_options(calls), echo_target};
  QuietServer() { server.start(); }
};

TEST(ServerQuiet, NothingIsCalledBeforeTheFirstAnswer) {
  QuietServer q;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(q.calls.load(), 0);
}

TEST(ServerQuiet, OnQuietIsCalledOncePerQuietSpell) {
  QuietServer q;
  RawClient c(q.server.port());
  c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(c.read_for(300ms).find("\"/one\""), std::string::npos);
  sales_test::eventually([&] { return q.calls.load() != 0; }, 1000ms, 20ms);
  EXPECT_EQ(q.calls.load(), 1);
  std::this_thread::sleep_for(500ms);  // still quiet: not called again
  EXPECT_EQ(q.calls.load(), 1);

  c.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");  // a new spell of work, then quiet again
  ASSERT_NE(c.read_for(300ms).find("\"/two\""), std::string::npos);
  sales_test::eventually([&] { return q.calls.load() != 1; }, 1000ms, 20ms);
  EXPECT_EQ(q.calls.load(), 2);
}

// A connection that closes after the quiet spell began frees its buffers: a new spell, so
// they are given back too. Its client may close it...
TEST(ServerQuiet, AConnectionItsClientClosedWhileQuietStartsANewSpell) {
  QuietServer q;
  std::optional<RawClient> c(std::in_place, q.server.port());
  c->send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(c->read_for(300ms).find("\"/one\""), std::string::npos);
  sales_test::eventually([&] { return q.calls.load() != 0; }, 5000ms, 20ms);
  ASSERT_EQ(q.calls.load(), 1);
  c.reset();  // closed, idle, with nothing more answered
  sales_test::eventually([&] { return q.calls.load() != 1; }, 5000ms, 20ms);
  EXPECT_EQ(q.calls.load(), 2);
}

// ... or the server, at its idle deadline (long enough for the first spell to come first).
TEST(ServerQuiet, AConnectionClosedAtItsIdleDeadlineStartsANewSpell) {
  std::atomic<int> calls{0};
  auto o = quiet_options(calls);
  o.idle_timeout = 2000ms;
  http::Server server(o, echo_target);
  server.start();
  RawClient c(server.port());
  c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(c.read_for(300ms).find("\"/one\""), std::string::npos);
  sales_test::eventually([&] { return calls.load() != 0; }, 1500ms, 20ms);
  ASSERT_EQ(calls.load(), 1) << "the first spell, well before the idle deadline";
  bool closed = false;
  c.read_for(5000ms, &closed);
  ASSERT_TRUE(closed) << "the server closed the idle connection";
  sales_test::eventually([&] { return calls.load() != 1; }, 5000ms, 20ms);
  EXPECT_EQ(calls.load(), 2);
}

// Work outside HTTP (a consumer's events) counts like answers: while it grows, no call.
TEST(ServerQuiet, OtherWorkCountsAsWork) {
  std::atomic<int> calls{0};
  std::atomic<std::uint64_t> events{0};
  auto o = quiet_options(calls);
  o.other_work = [&] { return events.load(); };
  http::Server server(o, echo_target);
  server.start();
  for (int i = 0; i < 10; ++i) {  // 500 ms of events, no request
    ++events;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(calls.load(), 0);
  sales_test::eventually([&] { return calls.load() != 0; }, 1000ms, 20ms);
  EXPECT_EQ(calls.load(), 1);
}

// A request still in the handler is not quiet, however long it takes.
TEST(ServerQuiet, ARequestInHandIsNotQuiet) {
  std::atomic<int> calls{0};
  std::atomic<bool> slow_started{false};
  auto o = quiet_options(calls);
  http::Server server(o, [&](http::Request& req) {
    if (req.target == "/slow") {
      slow_started = true;
      std::this_thread::sleep_for(600ms);
    }
    return http::Response::json(200, "{}");
  });
  server.start();
  RawClient fast(server.port()), slow(server.port());
  slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  sales_test::eventually([&] { return slow_started.load(); }, 500ms, 5ms);
  ASSERT_TRUE(slow_started.load());
  fast.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");  // answered at once: the watch is armed
  std::this_thread::sleep_for(400ms);  // several rounds answer nothing, with /slow in hand
  EXPECT_EQ(calls.load(), 0);
  ASSERT_EQ(fast.read_for(100ms).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  ASSERT_EQ(slow.read_for(1000ms).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  sales_test::eventually([&] { return calls.load() != 0; }, 1000ms, 20ms);
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace

// The gateway's upstream pool and name resolution: the event loop never waits for a
// resolver past the exchange's deadline, and a host keeps its last good addresses. A
// request met by a kept-alive connection the upstream closed is sent again only when the
// caller's answer on its Idempotency-Key allows.
#include "sales/http/upstream.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "sales/http/server.hpp"
#include "sales/resilience/retry.hpp"
#include "sales_test/fake_resolver.hpp"

namespace sales::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

// One exchange on a fresh loop: the answer's status, or the failure's kind.
struct Outcome {
  int status = 0;
  std::optional<std::size_t> head_length;
  Headers headers;
  std::optional<UpstreamFailure> failure;
  bool sent = false;  // UpstreamError::sent
  std::string what;
};
// `kept`: where the answer goes (it holds its charge, answers_held_in, while kept).
Outcome exchange(asio::io_context& loop, UpstreamPool& pool, Clock::duration within, std::string method = "GET",
                 bool has_idempotency_key = false, std::optional<Response>* kept = nullptr, std::string body = {}) {
  Outcome out;
  bool done = false;
  Request req;
  req.method = std::move(method);
  req.target = "/";
  req.body = std::move(body);
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        try {
          bool repeatable = resilience::retryable_method(req.method, has_idempotency_key);
          auto res = co_await pool.send(req, Clock::now() + within, repeatable);
          out.status = res.status;
          out.head_length = res.head_length;
          out.headers = res.headers;
          if (kept) *kept = std::move(res);
        } catch (const UpstreamError& e) {
          out.failure = e.kind();
          out.sent = e.sent();
          out.what = e.what();
        }
        done = true;
      },
      asio::detached);
  // Until the exchange ends: a kept connection's deadline timer may stay armed after it.
  loop.restart();
  while (!done && loop.run_one() > 0) {
  }
  return out;
}

class UpstreamResolve : public ::testing::Test {
 protected:
  UpstreamResolve() : server_(ServerOptions{.threads = 1}, [](Request&) { return Response::json(200, "{}"); }) {
    server_.start();
  }
  ~UpstreamResolve() override { server_.stop(); }
  Endpoint endpoint() const { return {"service.test", server_.port()}; }

  asio::io_context loop_;
  sales_test::FakeResolver dns_;
  Server server_;
};

TEST_F(UpstreamResolve, AHostThatResolvedOnceKeepsWorkingWhenTheResolverFails) {
  dns_.answer({"127.0.0.1"});
  UpstreamPool pool(loop_.get_executor(), endpoint(), 0, 8 << 20,
                    dns_.resolver());  // a new connection per exchange
  EXPECT_EQ(exchange(loop_, pool, 5s).status, 200);
  dns_.fail();
  EXPECT_EQ(exchange(loop_, pool, 5s).status, 200);
}

// A name that resolves to several replicas (Compose's --scale): each new connection starts
// at the next address, so they are not all opened to the first one.
TEST_F(UpstreamResolve, NewConnectionsTakeTheResolvedAddressesInTurn) {
  std::atomic<int> second_served{0};
  Server second(ServerOptions{.host = "127.0.0.2", .port = server_.port(), .threads = 1}, [&](Request&) {
    ++second_served;
    return Response::json(200, "{}");
  });
  second.start();
  dns_.answer({"127.0.0.1", "127.0.0.2"});
  UpstreamPool pool(loop_.get_executor(), endpoint(), 0, 8 << 20, dns_.resolver());  // a new connection per exchange
  for (int i = 0; i < 4; ++i) EXPECT_EQ(exchange(loop_, pool, 5s).status, 200);
  EXPECT_EQ(second_served, 2) << "four connections, two to each replica";
  second.stop();
}

TEST_F(UpstreamResolve, AResolverThatDoesNotAnswerEndsTheExchangeAtItsDeadline) {
  dns_.answer({"127.0.0.1"});
  dns_.hold();
  UpstreamPool pool(loop_.get_executor(), endpoint(), 4, 8 << 20, dns_.resolver());
  auto out = exchange(loop_, pool, 50ms);
  EXPECT_EQ(out.failure, UpstreamFailure::Timeout) << out.what;
  EXPECT_FALSE(out.sent) << "nothing went out: the gateway must not say it may have been applied";
  EXPECT_EQ(dns_.running(), 1) << "the loop went on while the resolver still blocked";
  dns_.release();
  EXPECT_TRUE(dns_.wait_idle());
}

TEST_F(UpstreamResolve, TheLoopIsWokenAsSoonAsTheResolverAnswers) {
  dns_.answer({"127.0.0.1"});
  dns_.hold();
  UpstreamPool pool(loop_.get_executor(), endpoint(), 4, 8 << 20, dns_.resolver());
  std::thread releaser([&] {
    while (dns_.calls() == 0) std::this_thread::sleep_for(1ms);
    dns_.release();
  });
  const auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange(loop_, pool, 10s).status, 200);
  // Not a speed assertion: a lost wake-up leaves the call asleep until its 10 s deadline,
  // after which answer() would still find the addresses and the status would be 200 all the same.
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s) << "the resolver's answer did not wake the loop";
  releaser.join();
}

// The attempt's watchdog has no socket to close while the addresses are awaited: a deadline
// that passes then (a new resolution hangs; the suspect addresses stand in at the deadline)
// must end the exchange there, not leave its connect, write and read without a deadline.
TEST_F(UpstreamResolve, AnExchangeWhoseDeadlinePassesWhileItAwaitsAddressesSendsNothing) {
  const std::uint16_t port = [] {  // a port nothing listens on for now
    Server probe(ServerOptions{.threads = 1}, [](Request&) { return Response::json(200, "{}"); });
    probe.start();
    auto p = probe.port();
    probe.stop();
    return p;
  }();
  dns_.answer({"127.0.0.1"});
  UpstreamPool pool(loop_.get_executor(), {"service.test", port}, 0, 8 << 20, dns_.resolver());
  auto refused = exchange(loop_, pool, 5s);
  ASSERT_EQ(refused.failure, UpstreamFailure::Connect) << "status " << refused.status << " " << refused.what;
  EXPECT_FALSE(refused.sent);
  std::atomic<int> served{0};
  Server back(ServerOptions{.port = port, .threads = 1}, [&](Request&) {
    ++served;
    return Response::json(200, "{}");
  });
  back.start();
  dns_.hold();
  auto out = exchange(loop_, pool, 50ms);
  EXPECT_EQ(out.failure, UpstreamFailure::Timeout) << "status " << out.status << " " << out.what;
  EXPECT_FALSE(out.sent);
  EXPECT_EQ(served.load(), 0) << "the request was sent after its deadline";
  dns_.release();
  EXPECT_TRUE(dns_.wait_idle());
  back.stop();
}

// On the test's loop: answers the first request on each connection and closes it at the
// second without an answer, as a service that restarted while the connection sat idle.
class ClosesReusedConnections {
 public:
  explicit ClosesReusedConnections(asio::io_context& loop) : acceptor_(loop, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(loop, accept(), asio::detached);
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] int connections() const { return connections_; }
  void stop_accepting() { acceptor_.close(); }  // a new connection is refused from now on

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
  static asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    constexpr std::string_view kAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
    std::string in;
    auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n", kTuple);
    if (ec) co_return;
    in.erase(0, n);
    co_await asio::async_write(socket, asio::buffer(kAnswer), kTuple);
    co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n", kTuple);
  }  // the socket closes here, the second request unanswered

  asio::ip::tcp::acceptor acceptor_;
  int connections_ = 0;
};

TEST(UpstreamResend, APostOnAClosedKeptAliveConnectionIsSentAgainAsTheCallersKeyLookupSays) {
  asio::io_context loop;
  ClosesReusedConnections upstream(loop);
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", upstream.port()}, 4);
  ASSERT_EQ(exchange(loop, pool, 5s).status, 200);  // leaves its connection idle in the pool
  auto once = exchange(loop, pool, 5s, "POST", /*has_idempotency_key=*/false);
  EXPECT_EQ(once.failure, UpstreamFailure::Reset) << "it may have been processed: not sent again";
  EXPECT_TRUE(once.sent) << "it was written: the gateway must say it may have been applied";
  ASSERT_EQ(exchange(loop, pool, 5s).status, 200);
  // The request carries no Idempotency-Key header: the pool goes by what the caller found.
  EXPECT_EQ(exchange(loop, pool, 5s, "POST", /*has_idempotency_key=*/true).status, 200)
      << "sent again on a fresh connection";
  EXPECT_EQ(upstream.connections(), 3);
}

// An upstream that restarted closed every kept connection: the resend after the first stale
// one goes on a fresh connection, not on the next idle one, which is as stale.
TEST(UpstreamResend, TheResendAfterAStaleConnectionNeverTakesAnotherIdleOne) {
  asio::io_context loop;
  ClosesReusedConnections upstream(loop);
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", upstream.port()}, 4);
  int answered = 0;
  for (int i = 0; i < 2; ++i) {  // side by side: two connections, both left idle in the pool
    asio::co_spawn(
        loop,
        [&]() -> asio::awaitable<void> {
          Request req;
          req.method = "GET";
          req.target = "/";
          answered += (co_await pool.send(req, Clock::now() + 5s, true)).status == 200;
        },
        asio::detached);
  }
  loop.restart();
  while (answered < 2 && loop.run_one() > 0) {
  }
  ASSERT_EQ(answered, 2);
  ASSERT_EQ(pool.idle(), 2u);
  auto out = exchange(loop, pool, 5s);
  EXPECT_EQ(out.status, 200) << out.what;
  EXPECT_EQ(upstream.connections(), 3) << "the resend went on a fresh connection";
  EXPECT_EQ(pool.idle(), 1u) << "the other stale one was dropped";
}

// A request written to an upstream that then says nothing may have been acted on.
TEST(UpstreamTimeout, AnUnansweredRequestThatWentOutTimesOutAsSent) {
  Server slow(ServerOptions{.threads = 1}, [](Request&) {
    std::this_thread::sleep_for(300ms);
    return Response::json(200, "{}");
  });
  slow.start();
  asio::io_context loop;
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", slow.port()}, 4);
  auto out = exchange(loop, pool, 50ms, "POST");
  EXPECT_EQ(out.failure, UpstreamFailure::Timeout) << out.status << " " << out.what;
  EXPECT_TRUE(out.sent);
  slow.stop();
}

// A request whose write never ended (the peer reads nothing: its receive buffer and ours
// fill) did not go out whole, so it cannot have been acted on.
TEST(UpstreamTimeout, ARequestWhoseWriteTimedOutWasNotSent) {
  asio::io_context loop;
  asio::ip::tcp::acceptor deaf(loop, {asio::ip::make_address("127.0.0.1"), 0});  // listens, never accepts
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", deaf.local_endpoint().port()}, 4);
  auto out = exchange(loop, pool, 200ms, "POST", false, nullptr, std::string(64 << 20, 'x'));
  EXPECT_EQ(out.failure, UpstreamFailure::Timeout) << out.status << " " << out.what;
  EXPECT_FALSE(out.sent) << out.what;
}

// A repeatable request written on a kept connection that closed unanswered is sent again;
// when that second try fails before it goes out (here: refused), the first may still have
// been acted on, and the failure says so.
TEST(UpstreamResend, ASecondTryThatFailsUnsentStillCountsTheFirstAsSent) {
  asio::io_context loop;
  ClosesReusedConnections upstream(loop);
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", upstream.port()}, 4);
  ASSERT_EQ(exchange(loop, pool, 5s).status, 200);  // leaves its connection idle in the pool
  upstream.stop_accepting();
  auto out = exchange(loop, pool, 5s, "PUT");
  EXPECT_EQ(out.failure, UpstreamFailure::Connect) << out.status << " " << out.what;
  EXPECT_TRUE(out.sent);
}

// A connection is kept for the next request until it is kMaxConnectionAge old, so that
// replicas added behind a name get connections too; then it is closed after its exchange.
TEST_F(UpstreamResolve, AConnectionPastItsAgeIsClosedInsteadOfKept) {
  dns_.answer({"127.0.0.1"});
  UpstreamPool young(loop_.get_executor(), endpoint(), 4, 8 << 20, dns_.resolver());
  EXPECT_EQ(exchange(loop_, young, 5s).status, 200);
  EXPECT_EQ(young.idle(), 1u) << "kept for the next request";
  UpstreamPool aged(loop_.get_executor(), endpoint(), 4, 8 << 20, dns_.resolver(), 0ms);
  EXPECT_EQ(exchange(loop_, aged, 5s).status, 200);
  EXPECT_EQ(aged.idle(), 0u) << "too old to keep: closed";
}

// The gateway passes a HEAD answer on with the length the upstream declared for the GET's
// body: nothing else could tell the client how long the resource is.
TEST(UpstreamHead, AHeadAnswerKeepsTheLengthTheUpstreamDeclared) {
  Server server(ServerOptions{.threads = 1}, [](Request&) { return Response::json(200, R"({"ok":true})"); });
  server.start();
  asio::io_context loop;
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", server.port()}, 4);
  auto head = exchange(loop, pool, 5s, "HEAD");
  EXPECT_EQ(head.status, 200) << head.what;
  EXPECT_EQ(head.head_length, 11u);
  auto get = exchange(loop, pool, 5s, "GET");  // on the same kept-alive connection: no body was left behind
  EXPECT_EQ(get.status, 200) << get.what;
  EXPECT_EQ(get.head_length, std::nullopt) << "only an answer to HEAD declares a length it does not carry";
  server.stop();
}

// An upstream that is not ours may list fields of its hop in Connection (RFC 9110 §7.6.1):
// they stay with that hop, like the fixed hop-by-hop ones.
TEST(UpstreamFields, FieldsTheUpstreamsConnectionNamesAreNotPassedOn) {
  asio::io_context loop;
  asio::ip::tcp::acceptor acceptor(loop, {asio::ip::make_address("127.0.0.1"), 0});
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
        auto [ec, socket] = co_await acceptor.async_accept(kTuple);
        if (ec) co_return;
        std::string in;
        co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n", kTuple);
        constexpr std::string_view kAnswer =
            "HTTP/1.1 200 OK\r\nX-Up-Hop: a\r\nConnection: X-Up-Hop, x-other-hop\r\nX-Kept: yes\r\n"
            "X-Other-Hop: b\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n{}";
        co_await asio::async_write(socket, asio::buffer(kAnswer), kTuple);
      },
      asio::detached);
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", acceptor.local_endpoint().port()}, 4);
  auto got = exchange(loop, pool, 5s);
  ASSERT_EQ(got.status, 200) << got.what;
  EXPECT_FALSE(got.headers.get("Connection"));
  EXPECT_FALSE(got.headers.get("X-Up-Hop"));
  EXPECT_FALSE(got.headers.get("X-Other-Hop"));
  EXPECT_FALSE(got.headers.get("Keep-Alive"));
  EXPECT_EQ(got.headers.get("X-Kept").value_or(""), "yes");
}

// Answers are charged to the budget as their bytes arrive and keep their charge until they
// are destroyed (the gateway writes them first); the read that would pass the budget ends
// its exchange as Overloaded, gives its bytes back and leaves no connection behind.
TEST(UpstreamAnswerBudget, AnAnswerThatWouldPassTheBudgetIsDroppedAndKeptAnswersHoldTheirs) {
  const std::string body(100'000, 'x');
  Server server(ServerOptions{.threads = 1}, [&](Request&) { return Response::json(200, body); });
  server.start();
  asio::io_context loop;
  UpstreamPool pool(loop.get_executor(), {"127.0.0.1", server.port()}, 4);
  ByteBudget answers(250'000);
  pool.answers_held_in(answers);

  std::optional<Response> first, second, third;
  ASSERT_EQ(exchange(loop, pool, 5s, "GET", false, &first).status, 200);
  const auto one = answers.held();
  EXPECT_GT(one, body.size()) << "the body and its head";
  EXPECT_LT(one, body.size() + 1000);
  ASSERT_EQ(exchange(loop, pool, 5s, "GET", false, &second).status, 200);
  const auto two = answers.held();
  EXPECT_GT(two, 2 * body.size());

  auto over = exchange(loop, pool, 5s, "GET", false, &third);
  EXPECT_EQ(over.failure, UpstreamFailure::Overloaded) << over.status << " " << over.what;
  EXPECT_TRUE(over.sent) << "the upstream was answering: it acted on the request";
  EXPECT_FALSE(third);
  EXPECT_EQ(answers.held(), two) << "the dropped answer's bytes are given back";
  EXPECT_EQ(pool.idle(), 0u) << "its connection, in the middle of an answer, is not kept";

  first.reset();  // written and gone
  EXPECT_EQ(answers.held(), two - one);
  EXPECT_EQ(exchange(loop, pool, 5s).status, 200) << "room again";
  second.reset();
  EXPECT_EQ(answers.held(), 0u);
  server.stop();
}

}  // namespace
}  // namespace sales::http

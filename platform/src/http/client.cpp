// The blocking service-to-service client. Each pooled connection owns a tiny event loop so
// every call can have a real deadline (Beast's synchronous calls have none).
#include "sales/http/client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <vector>

#include "address_endpoints.hpp"
#include "buffer_sizes.hpp"
#include "idle_connection.hpp"
#include "sales/resilience/deadline.hpp"
#include "sales/resilience/retry.hpp"

namespace sales::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

Endpoint parse_base_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) throw std::invalid_argument("URL must start with http://: '" + url + "'");
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) throw std::invalid_argument("URL must not have a path: '" + url + "'");
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("URL must name host and port: '" + url + "'");
  // The port is digits and nothing else: "80O1" (a letter O) was read as 80, and a service
  // started that could never reach its peer. A user part, a query or a blank is no host.
  const std::string host = rest.substr(0, colon);
  const auto port = parse_positive(std::string_view(rest).substr(colon + 1));
  if (!port || *port > 65535) throw std::invalid_argument("URL has an invalid port (1-65535): '" + url + "'");
  if (host.find_first_of("@?# \t") != std::string::npos) throw std::invalid_argument("URL has an invalid host: '" + url + "'");
  return {host, static_cast<std::uint16_t>(*port)};
}

namespace {
// When one attempt (resolve, connect, write and read) must be over: the client's timeout
// from its start, or the request's deadline if sooner (`cut`). One time for all its steps,
// so an attempt never outlasts the timeout however its time is split among them.
struct AttemptEnd {
  std::chrono::steady_clock::time_point at;
  bool cut = false;
};

struct Conn {
  Conn() { buffer.reserve(detail::kReadBufferBytes); }  // why: buffer_sizes.hpp
  asio::io_context loop{1};
  beast::tcp_stream stream{loop};
  beast::flat_buffer buffer{detail::read_buffer_limit(kAnswerHeadLimit)};
  std::chrono::steady_clock::time_point born = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point idle_since;
};
}  // namespace

struct Client::Impl {
  ClientOptions opts;
  Endpoint endpoint;
  std::unique_ptr<AddressBook> book;
  std::mutex mu;
  std::vector<std::unique_ptr<Conn>> idle;
  std::atomic<std::size_t> connects{0};  // where the next connection starts (endpoints_of)

  std::unique_ptr<Conn> take(bool repeatable) {
    std::lock_guard lock(mu);
    return detail::take_fit(idle, repeatable, [](Conn& c) { return c.stream.socket().native_handle(); });
  }
  void drop_idle() {
    std::lock_guard lock(mu);
    idle.clear();
  }
  void give_back(std::unique_ptr<Conn> c) {
    c->idle_since = std::chrono::steady_clock::now();
    if (!detail::young_enough(c->born, c->idle_since, opts.max_connection_age)) return;  // closed: the next is balanced anew
    std::lock_guard lock(mu);
    if (idle.size() < opts.max_idle) idle.push_back(std::move(c));
  }

  // Where a new connection goes. The resolver gets no more time than the attempt has;
  // when it fails or is slow, the addresses that resolved last are used.
  std::vector<tcp::endpoint> addresses(const std::string& target, const AttemptEnd& end) {
    try {
      return detail::endpoints_of(book->lookup(end.at), endpoint.port, connects++);
    } catch (const ResolveError& e) {
      throw ClientError(opts.base_url + target + ": " + e.what(), e.timed_out());
    }
  }

  // One attempt on one connection; returns false when a reused connection turned out stale.
  // A fresh connection connects to `targets` first. Connect, write and read all end by
  // `end`, whatever the lookup before them took.
  bool exchange(Conn& c, const std::vector<tcp::endpoint>* targets, const bhttp::request<bhttp::string_body>& req,
                bool repeatable, const AttemptEnd& end, Response& out, beast::error_code& failure) {
    const bool fresh = targets != nullptr;
    beast::error_code ec;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kAnswerHeadLimit));  // and the buffer's limit with it
    parser.body_limit(opts.body_limit);
    parser.skip(req.method() == bhttp::verb::head);
    c.loop.restart();
    c.stream.expires_at(end.at);  // for every operation until it is set again
    if (fresh) {
      c.stream.async_connect(*targets, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
      c.loop.run();
      if (ec) {
        // The service may have moved: resolve again next time. Not when the request's
        // deadline cut the connect short: that says nothing about the addresses.
        if (!(end.cut && ec == beast::error::timeout)) book->connect_failed();
        failure = ec;
        return true;
      }
      c.stream.socket().set_option(tcp::no_delay(true), ec);
      c.loop.restart();
    }
    bool wrote = false;
    bhttp::async_write(c.stream, req, [&](beast::error_code e, std::size_t) {
      ec = e;
      if (e) return;
      wrote = true;
      bhttp::async_read(c.stream, c.buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    c.loop.run();
    if (ec) {
      // Sent again once, on a new connection, by the rule the gateway's pool follows too.
      const bool stale =
          detail::may_send_again(!fresh, ec == beast::error::timeout, !wrote, repeatable, parser.got_some());
      failure = ec;
      return !stale;
    }
    const bool reusable = detail::may_keep(parser, c.buffer);
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.add_unchecked(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    out.keep_alive = reusable;
    return true;
  }
};

namespace {
// The callee gets what is left of the attempt (our caller's budget, or the call's own
// timeout if that is shorter): work it does after we stop waiting helps nobody. False when
// nothing is left (0 ms, and no field set).
std::chrono::milliseconds forward_budget(bhttp::request<bhttp::string_body>& out, resilience::TimePoint now,
                                         const AttemptEnd& end) {
  auto left = resilience::budget_left(now, end.at);
  if (left.count() <= 0) return left;
  char digits[24];
  auto [last, ec] = std::to_chars(digits, digits + sizeof digits, left.count());
  out.set("X-Request-Budget-Ms", beast::string_view(digits, static_cast<std::size_t>(last - digits)));
  return left;
}

// A callee given less than this before the request's deadline cut its call had no fair
// chance to answer: the caller ran out of time itself (a 504 of its own), rather than the
// callee failing to answer (which callers report as the callee out: a 503 naming it).
constexpr std::chrono::milliseconds kLeastTimeToBlameTheCallee{10};
}  // namespace

Client::Client(ClientOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = parse_base_url(opts.base_url);
  impl_->book = std::make_unique<AddressBook>(impl_->endpoint.host, std::move(opts.resolver));
  impl_->opts = std::move(opts);
}
Client::~Client() = default;

Response Client::send(Request req) {
  // A request that may not be sent again is never written into a connection that may have
  // been closed while idle.
  const bool repeatable = resilience::retryable_method(req.method, req.headers.get("Idempotency-Key").has_value());
  bhttp::request<bhttp::string_body> out{bhttp::string_to_verb(req.method), req.target, 11};
  for (const auto& [k, v] : req.headers.fields()) out.insert(k, v);
  out.set(bhttp::field::host, impl_->endpoint.host + ":" + std::to_string(impl_->endpoint.port));
  out.keep_alive(true);
  out.body() = std::move(req.body);
  out.prepare_payload();
  const auto request_deadline = resilience::current_deadline();
  // One end for the call: the second attempt (after a stale kept-alive connection) gets what
  // the first left, so a call never outlasts its timeout, nor the request's deadline.
  AttemptEnd end;
  end.at = resilience::give_up_at(std::chrono::steady_clock::now(), impl_->opts.timeout, &end.cut);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto now = std::chrono::steady_clock::now();
    // What the callee is given: the time left under a request's deadline (0 without one,
    // where no cut by the deadline can happen).
    const auto given = request_deadline != resilience::kNoDeadline ? forward_budget(out, now, end) : std::chrono::milliseconds(0);
    if (request_deadline != resilience::kNoDeadline && given.count() <= 0) {
      throw resilience::DeadlineExceeded(impl_->opts.base_url + req.target + ": the request's deadline passed before the call");
    }
    // The second attempt follows a stale kept-alive connection: the peer restarted, so
    // every idle connection is as stale; drop them and open a fresh one.
    if (attempt == 1) impl_->drop_idle();
    auto conn = impl_->take(repeatable);
    std::optional<std::vector<tcp::endpoint>> targets;
    if (!conn) {
      targets = impl_->addresses(req.target, end);
      conn = std::make_unique<Conn>();
    }
    Response res;
    beast::error_code failure;
    bool final = impl_->exchange(*conn, targets ? &*targets : nullptr, out, repeatable, end, res, failure);
    if (!failure) {
      if (res.keep_alive) impl_->give_back(std::move(conn));
      return res;
    }
    if (failure == beast::error::timeout && end.cut && given < kLeastTimeToBlameTheCallee) {
      throw resilience::DeadlineExceeded(impl_->opts.base_url + req.target + ": only " + std::to_string(given.count()) +
                                         " ms were left for the call");
    }
    if (failure == beast::error::timeout) {
      throw ClientError(impl_->opts.base_url + req.target +
                            (end.cut ? ": no answer before the request's deadline" : ": timed out"),
                        true);
    }
    if (final) throw ClientError(impl_->opts.base_url + req.target + ": " + failure.message());
  }
  throw ClientError(impl_->opts.base_url + req.target + ": connection closed");
}

Response Client::get(std::string target, const Headers& extra) {
  Request r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers = extra;
  return send(std::move(r));
}

Response Client::post(std::string target, std::string json_body, const Headers& extra) {
  Request r;
  r.method = "POST";
  r.target = std::move(target);
  r.headers = extra;
  r.headers.set("Content-Type", "application/json");
  r.body = std::move(json_body);
  return send(std::move(r));
}

}  // namespace sales::http

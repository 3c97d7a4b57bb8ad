// The gateway's upstream client: Beast's client templates live only here.
#include "sales/http/upstream.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "sales/http/wire.hpp"
#include "sales/resilience/deadline.hpp"
#include "sales/http/watchdog.hpp"
#include "address_endpoints.hpp"
#include "buffer_sizes.hpp"
#include "idle_connection.hpp"
#include "message_parser.hpp"
#include "read_message.hpp"
#include "write_now.hpp"

namespace sales::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {
// X-Request-Budget-Ms: the whole milliseconds left to `deadline` now, just before the head
// is written (resolving and connecting have taken theirs), inserted before its blank line.
void add_budget_field(std::string& head, std::chrono::steady_clock::time_point deadline) {
  constexpr std::string_view kName = "X-Request-Budget-Ms: ";
  auto left = resilience::budget_left(std::chrono::steady_clock::now(), deadline).count();
  if (left <= 0) throw UpstreamError(UpstreamFailure::Timeout, "the deadline passed before the request was written");
  char field[48];
  std::memcpy(field, kName.data(), kName.size());
  auto [end, ec] = std::to_chars(field + kName.size(), field + sizeof field - 2, left);
  *end++ = '\r';
  *end++ = '\n';
  head.insert(head.size() - 2, field, static_cast<std::size_t>(end - field));
}

struct Conn {
  explicit Conn(asio::any_io_executor ex) : stream(ex), watchdog(stream) { buffer.reserve(detail::kReadBufferBytes); }
  tcp::socket stream;
  Watchdog watchdog;  // after the socket: stops before it closes
  beast::flat_buffer buffer{detail::read_buffer_limit(kAnswerHeadLimit)};
  std::string head;  // the request head being written
  std::chrono::steady_clock::time_point born = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point idle_since;
};

// Services close keep-alive connections idle for 60 s; we drop ours well before, so a
// request is never written into a connection the upstream is closing.
constexpr auto kMaxIdle = std::chrono::seconds(20);

// The host's addresses without blocking the loop: a resolution still running when the
// deadline (or the book's fallback wait) comes is left to finish on its own thread.
asio::awaitable<Addresses> addresses_by(AddressBook& book, std::chrono::steady_clock::time_point deadline) {
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
  auto until = book.begin(deadline, [timer] { asio::post(timer->get_executor(), [timer] { timer->cancel(); }); });
  if (until) {
    timer->expires_at(*until);
    co_await timer->async_wait(kTuple);
  }
  try {
    co_return book.answer();
  } catch (const ResolveError& e) {
    throw UpstreamError(e.timed_out() ? UpstreamFailure::Timeout : UpstreamFailure::Connect, e.what());
  }
}

}  // namespace

struct UpstreamPool::Impl {
  asio::any_io_executor executor;
  Endpoint endpoint;
  // Resolved on first use, again after a failed connect (containers move) and now and
  // then; the last good addresses stand in while the resolver fails or is slow.
  std::unique_ptr<AddressBook> addresses;
  std::size_t max_idle;
  std::size_t body_limit;
  std::chrono::milliseconds max_connection_age;
  std::string host_header;
  std::vector<std::unique_ptr<Conn>> idle;  // the most recently used at the back
  std::size_t connects = 0;                 // where the next connection starts (endpoints_of)
  ByteBudget* answers = nullptr;            // answers_held_in
  std::size_t small = 0;                    // an answer's first bytes, which may use
  std::size_t reserve = 0;                  // the reserve that larger ones leave free

  // An idle connection fit to carry a request (that may be sent again: `repeatable`), or null.
  std::unique_ptr<Conn> take_idle(bool repeatable) {
    auto now = std::chrono::steady_clock::now();
    while (!idle.empty() && now - idle.front()->idle_since > kMaxIdle) idle.erase(idle.begin());
    return detail::take_fit(idle, repeatable, [](Conn& c) { return c.stream.native_handle(); });
  }
};

UpstreamPool::UpstreamPool(asio::any_io_executor executor, Endpoint endpoint, std::size_t max_idle, std::size_t body_limit,
                           Resolver resolver, std::chrono::milliseconds max_connection_age)
    : impl_(std::make_unique<Impl>()) {
  impl_->executor = executor;
  impl_->host_header = endpoint.host + ":" + std::to_string(endpoint.port);
  impl_->addresses = std::make_unique<AddressBook>(endpoint.host, std::move(resolver));
  impl_->endpoint = std::move(endpoint);
  impl_->max_idle = max_idle;
  impl_->body_limit = body_limit;
  impl_->max_connection_age = max_connection_age;
}

UpstreamPool::~UpstreamPool() = default;
std::size_t UpstreamPool::idle() const { return impl_->idle.size(); }
void UpstreamPool::answers_held_in(ByteBudget& answers, std::size_t small, std::size_t reserve) {
  impl_->answers = &answers;
  impl_->small = small;
  impl_->reserve = reserve;
}

asio::awaitable<Response> UpstreamPool::send(const Request& req, std::chrono::steady_clock::time_point deadline,
                                             bool repeatable, bool tell_budget) {
  // A reused connection may have been closed by the upstream while idle; that failure
  // happens before the request reached it, so one more try on a fresh connection is safe.
  // A request that may not be repeated may have been applied by an upstream that then went
  // away: it is not sent again.
  bool sent_before = false;  // the first try wrote the whole request: the upstream may have acted on it
  for (int attempt = 0;; ++attempt) try {
    // The second attempt follows a stale kept-alive connection: the upstream restarted or
    // closed its connections, so every idle one is as stale (the blocking client's rule too).
    // They are dropped, and the request goes on a fresh connection as promised above.
    if (attempt == 1) impl_->idle.clear();
    std::unique_ptr<Conn> conn = impl_->take_idle(repeatable);
    bool fresh = !conn;
    if (fresh) conn = std::make_unique<Conn>(impl_->executor);
    auto remaining = deadline - std::chrono::steady_clock::now();
    if (remaining <= std::chrono::steady_clock::duration::zero()) throw UpstreamError(UpstreamFailure::Timeout, "deadline passed");
    conn->watchdog.expires_at(deadline);
    if (fresh) {
      auto addresses = co_await addresses_by(*impl_->addresses, deadline);
      // The watchdog had no socket to close while the addresses were awaited: a deadline
      // that passed meanwhile (the suspect addresses stand in at it) ends the attempt here.
      if (std::chrono::steady_clock::now() >= deadline) {
        throw UpstreamError(UpstreamFailure::Timeout, "the deadline passed while " + impl_->endpoint.host + " was resolved");
      }
      auto targets = detail::endpoints_of(addresses, impl_->endpoint.port, impl_->connects++);
      auto [ec, ep] = co_await asio::async_connect(conn->stream, targets, kTuple);
      // A connect cut short by the request's deadline says nothing about the addresses.
      if (ec && !conn->watchdog.timed_out()) impl_->addresses->connect_failed();
      if (ec && conn->watchdog.timed_out()) throw UpstreamError(UpstreamFailure::Timeout, "connect timed out");
      if (ec) throw UpstreamError(UpstreamFailure::Connect, "connect: " + ec.message());
      conn->stream.set_option(tcp::no_delay(true), ec);
      conn->stream.non_blocking(true, ec);  // requests are written at once when they fit (write_now.hpp)
    }
    // The head goes into the connection's own buffer, reused by its next requests.
    wire::request_head(conn->head, req.method, req.target, impl_->host_header, req.headers, req.body.size());
    if (tell_budget) add_budget_field(conn->head, deadline);
    std::array<asio::const_buffer, 2> out{asio::buffer(conn->head), asio::buffer(req.body)};
    beast::error_code wec;
    if (!detail::write_now(conn->stream, out, wec) && !wec) {
      auto [ec, wn] = co_await asio::async_write(conn->stream, out, kTuple);
      wec = ec;
    }
    std::optional<detail::MessageParser<false>> parser;
    std::shared_ptr<ByteBudget::Hold> charge;
    if (impl_->answers) charge = std::make_shared<ByteBudget::Hold>(*impl_->answers);
    std::size_t answer_bytes = 0;
    auto charged = [&](std::size_t bytes) {
      if (!charge) return true;
      answer_bytes += bytes;
      return charge->grow(bytes, answer_bytes <= impl_->small ? 0 : impl_->reserve);
    };
    beast::error_code rec = wec;
    // Interim answers (1xx but 101) precede the real one: read past them, never return one.
    for (bool interim = true; interim && !rec;) {
      parser.emplace(true);  // the upstream's connection-level fields stay with its connection
      parser->header_limit(static_cast<std::uint32_t>(kAnswerHeadLimit));  // and the buffer's limit with it
      parser->body_limit(impl_->body_limit);
      parser->skip(req.method == "HEAD");  // a HEAD answer has headers only
      rec = co_await detail::read_message(conn->stream, conn->buffer, *parser, detail::ReadUntil::Message, [] {}, charged);
      auto status = parser->get().status;
      interim = !rec && status >= 100 && status < 200 && status != 101;
    }
    if (rec == asio::error::no_buffer_space) {  // its first bytes arrived: never sent again
      throw UpstreamError(UpstreamFailure::Overloaded, "the answers held at once would pass their budget", true);
    }
    if (rec) {
      // Once (attempt 0); no parser: the write failed.
      bool timed_out = conn->watchdog.timed_out();
      if (detail::may_send_again(!fresh && attempt == 0, timed_out, bool(wec), repeatable, parser && parser->got_some())) {
        sent_before = !wec;
        continue;
      }
      const bool sent = !wec;
      if (timed_out) throw UpstreamError(UpstreamFailure::Timeout, sent ? "upstream timed out" : "write timed out", sent);
      if (rec == bhttp::error::body_limit) {
        throw UpstreamError(UpstreamFailure::TooLarge, "upstream: " + rec.message(), sent);
      }
      if (detail::malformed(rec)) throw UpstreamError(UpstreamFailure::Malformed, "upstream: " + rec.message(), sent);
      throw UpstreamError(UpstreamFailure::Reset, "upstream: " + rec.message(), sent);
    }
    Response r = std::move(parser->get());
    r.charge = std::move(charge);
    if (req.method == "HEAD" && parser->content_length()) r.head_length = static_cast<std::size_t>(*parser->content_length());
    auto now = std::chrono::steady_clock::now();
    if (detail::may_keep(*parser, conn->buffer) && impl_->idle.size() < impl_->max_idle &&
        detail::young_enough(conn->born, now, impl_->max_connection_age)) {
      conn->watchdog.expires_never();
      conn->idle_since = now;
      impl_->idle.push_back(std::move(conn));
    }
    co_return r;
  } catch (const UpstreamError& e) {
    if (!sent_before || e.sent()) throw;
    throw UpstreamError(e.kind(), e.what(), true);  // the second try failed; the first may have been acted on
  }
}

asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(kTuple);
}

}  // namespace sales::http

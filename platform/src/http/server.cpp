// The only translation unit with Beast's server templates.
#include "sales/http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "sales/http/async_server.hpp"
#include "sales/http/http_date.hpp"
#include "sales/http/request_budget.hpp"
#include "sales/http/wire.hpp"
#include "sales/http/watchdog.hpp"
#include "sales/http/byte_budget.hpp"
#include "buffer_sizes.hpp"
#include "client_connections.hpp"
#include "message_parser.hpp"
#include "request_identity.hpp"
#include "request_metrics.hpp"
#include "read_message.hpp"
#include "write_now.hpp"
#include "sales/log/log.hpp"
#include "sales/metrics/metrics.hpp"
#include "sales/pg/pool.hpp"
#include "sales/problem/problem.hpp"

namespace sales::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {
// The head is written into the connection's own buffer (reused across its requests); head
// and body leave in one write.
// An answer to HEAD is the GET's head without its body: Content-Length is the GET body's
// when the handler gave it (a service's GET route, the gateway's /health), else the one the
// upstream declared (the gateway passing on a HEAD answer, Response::head_length), else none.
// Every answer has a Date: this server's clock, unless the handler gave one (the gateway
// passing on a service's answer, fresh or from its cache beside an Age, keeps the origin's).
void answer_head(std::string& head, const Response& res, std::optional<std::size_t> length, bool keep_alive,
                 bool to_http10) {
  const std::string_view date = res.headers.get("Date") ? std::string_view{} : date_field_line();
  wire::response_head(head, res.status, res.headers, length, keep_alive, to_http10, date);  // ignores the size when bodiless
}

asio::awaitable<beast::error_code> write_response(tcp::socket& stream, std::string& head, const Response& res,
                                                  bool keep_alive, bool head_request, bool to_http10 = false) {
  bool bodiless = head_request || wire::bodiless_status(res.status);
  std::optional<std::size_t> length;
  if (!head_request || !res.body.empty()) length = res.body.size();
  else length = res.head_length;
  answer_head(head, res, length, keep_alive, to_http10);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(res.body.data(), bodiless ? 0 : res.body.size())};
  beast::error_code ec;
  if (detail::write_now(stream, buffers, ec) || ec) co_return ec;
  auto [wec, n] = co_await asio::async_write(stream, buffers, kTuple);
  co_return wec;
}
}  // namespace

struct Server::Impl {
  ServerOptions opts;
  AsyncHandler handler;
  detail::RequestMetrics metrics;
  bool loop_per_thread;
  // Handlers that block run start to finish inside invoke(): they read Request::received_at
  // (request_budget.hpp) and log under a thread-local request id. The gateway's suspend.
  bool blocking_handlers = false;
  // Before the loops: their coroutines' holds give bytes back to it as they are destroyed,
  // and their sessions' ends count down `connections` and count up `work_done`.
  ByteBudget bodies;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};  // requests read and not yet answered
  std::atomic<std::uint64_t> work_done{0};  // answers written and connections closed: the quiet watch's clock
  // Stopping: no connection is kept after its answer, and those waiting for a next request
  // are closed (a client's pool would otherwise send requests nobody reads into them).
  std::atomic<bool> stopping{false};
  // A session's socket is touched only on the session's own executor (its strand or loop):
  // its watchdog may close it at a deadline there, and the descriptor be reused at once.
  struct OpenSession {
    tcp::socket* socket;
    std::atomic<bool> between_requests{true};  // waiting for a next request's first byte
    bool ended = false;                        // on the socket's executor only
  };
  std::mutex sessions_mu;
  std::unordered_set<std::shared_ptr<OpenSession>> sessions;
  metrics::Counter* bodies_refused = nullptr;
  metrics::Counter* coroutines_failed = nullptr;
  metrics::Counter* refused_server_full = nullptr;
  metrics::Counter* refused_client_full = nullptr;
  detail::ClientConnections per_client{1};  // used when opts.max_connections_per_client > 0
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::uint16_t bound_port = 0;

  Impl(ServerOptions o, AsyncHandler h, metrics::Registry* m, bool per_thread)
      : opts(std::move(o)),
        handler(std::move(h)),
        metrics(m, opts.service),
        loop_per_thread(per_thread),
        bodies(std::max(opts.bodies_limit, opts.body_limit)),
        per_client(std::max<std::size_t>(opts.max_connections_per_client, 1)) {
    if (m) {
      bodies_refused = &m->counter("http_bodies_refused_total",
                                   "Requests refused because the server held as many request bodies as it may",
                                   {{"service", opts.service}});
      constexpr const char* kRefused = "http_connections_refused_total";
      constexpr const char* kRefusedHelp =
          "Connections refused and closed: the server held as many as it may (503), or their client did (429)";
      refused_server_full = &m->counter(kRefused, kRefusedHelp, {{"service", opts.service}, {"cap", "server"}});
      refused_client_full = &m->counter(kRefused, kRefusedHelp, {{"service", opts.service}, {"cap", "client"}});
      coroutines_failed = &m->counter("http_server_errors_total",
                                      "Connections, the listener or the quiet watch ended by an error outside any handler",
                                      {{"service", opts.service}});
    }
  }

  // A coroutine's completion: what it threw is logged and counted. With asio::detached an
  // exception outside the handler (an allocation that failed, a hook that threw) ended the
  // connection, or the listener, without a trace.
  auto log_if_thrown(const char* what) {
    return [this, what](std::exception_ptr e) {
      if (!e) return;
      if (coroutines_failed) coroutines_failed->inc();
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log::error("{} ended on an error: {}", what, x.what());
      } catch (...) {
        log::error("{} ended on an error that is not a std::exception", what);
      }
    };
  }

  asio::awaitable<Response> invoke(Request& req) {
    // A log line takes its request id from a thread-local scope. A handler that suspends
    // shares its thread with other requests meanwhile, so its scope is opened only for the
    // lines written here, after it resumed; a blocking one has it for its whole run.
    std::optional<log::RequestScope> scope;
    auto in_scope = [&] {
      if (!scope) scope.emplace(req.request_id());
    };
    if (blocking_handlers) in_scope();
    std::optional<Problem> problem;
    try {
      co_return co_await handler(req);
    } catch (const ProblemError& e) {
      problem = e.problem();
    } catch (const pg::Unavailable& e) {
      in_scope();
      log::warn("database unavailable: {}", e.what());
      problem = Problem::unavailable("The service's database is not reachable right now; try again shortly.");
    } catch (const pg::Error& e) {
      in_scope();
      if (e.transient()) {
        // Lost connection, statement timeout, lock timeout, serialization failure or
        // deadlock: the same request can succeed shortly. Nothing was committed, but for a
        // connection lost while its COMMIT was on the way: the request's keyed repeat (or
        // a PUT's, which finds it done) is what tells.
        log::warn("transient database error on {} {}: {}", req.method, req.target, e.what());
        problem = Problem::unavailable("The service's database could not complete the request right now; try again shortly.");
      } else {
        log::error("unhandled database error on {} {}: {}", req.method, req.target, e.what());
        problem = Problem::internal();
      }
    } catch (const std::exception& e) {
      in_scope();
      log::error("unhandled error on {} {}: {}", req.method, req.target, e.what());
      problem = Problem::internal();
    }
    Response res = to_response(*problem);
    if (problem->status == 503) res.headers.set("Retry-After", "1");
    co_return res;
  }

  // A refusal the server writes itself, not a handler. `parsed`: the request's header when it
  // was read (its id is answered, and decorate_answer sees it).
  Response refusal(const Problem& p, const Request* parsed, bool retry_soon) {
    Request about;
    if (parsed) {
      about.method = parsed->method;
      about.target = parsed->target;
      about.headers = parsed->headers;
    }
    auto id = about.headers.get("X-Request-Id").value_or("");
    about.headers.set("X-Request-Id", detail::acceptable_request_id(id) ? std::string(id) : make_request_id());
    Response res = to_response(p);
    if (retry_soon) res.headers.set("Retry-After", "1");
    finalize_response(about, res);
    if (opts.decorate_answer) opts.decorate_answer(about, res);
    return res;
  }

  asio::awaitable<void> write_problem_and_close(tcp::socket& stream, Watchdog& watchdog, const Problem& p,
                                               const Request* parsed = nullptr, bool retry_soon = false) {
    const Response res = refusal(p, parsed, retry_soon);
    std::string head;
    watchdog.expires_after(opts.write_timeout);
    co_await write_response(stream, head, res, false, false);
    // Drain what the client is still sending so it reads our answer instead of a reset.
    beast::error_code ec;
    stream.shutdown(tcp::socket::shutdown_send, ec);
    watchdog.expires_after(std::chrono::seconds(1));
    char sink[16384];
    for (int i = 0; i < 256; ++i) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
    }
  }

  // A connection over a cap gets no session (no coroutine, buffers or deadline: what the
  // caps bound), only its problem written at once if the socket takes it, and is closed.
  // What the client sent already is read first, so the close is a FIN after the answer, not
  // a reset that could overtake it; a request sent later meets the reset (as every refused
  // connection did before), and Linux still hands the client the answer it received.
  void refuse_over_cap(tcp::socket& socket, bool client_full) {
    if (auto* refused = client_full ? refused_client_full : refused_server_full) refused->inc();
    beast::error_code ec;
    socket.non_blocking(true, ec);
    std::array<char, 4096> sink;
    for (int i = 0; i < 4 && !ec; ++i) socket.read_some(asio::buffer(sink), ec);
    const Response res = refusal(
        client_full ? Problem::too_many_requests("This client holds as many connections as it may; reuse or close them.")
                    : Problem::unavailable("The server holds as many connections as it may; retry shortly."),
        nullptr, true);
    std::string head;
    answer_head(head, res, res.body.size(), false, false);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(res.body)};
    socket.write_some(buffers, ec);  // a fresh socket's send buffer holds it whole
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  // `remote`: the peer's address; `place`: its client's place (max_connections_per_client),
  // given back after the session's end (a parameter: also when the coroutine never runs).
  // Whom a connection from `remote` counts against. What the option's function throws is
  // counted and the connection taken uncounted: it must not end the listener.
  std::optional<std::string> client_of(const std::string& remote) {
    try {
      return opts.connection_client(remote);
    } catch (const std::exception& e) {
      if (coroutines_failed) coroutines_failed->inc();
      log::error("telling a connection's client from {} failed: {}", remote, e.what());
      return std::nullopt;
    }
  }

  asio::awaitable<void> session(tcp::socket socket, std::string remote, [[maybe_unused]] detail::ClientPlace place) {
    // The session leaves the set stop() walks and the counts of connections before its
    // socket (a parameter) is destroyed.
    struct ConnectionEnd {
      Impl& server;
      std::shared_ptr<OpenSession> open;
      ~ConnectionEnd() {
        open->ended = true;
        {
          std::lock_guard lock(server.sessions_mu);
          server.sessions.erase(open);
        }
        --server.connections;
        // Its buffers and frame are freed just after: the quiet watch's next round trims them.
        server.work_done.fetch_add(1, std::memory_order_relaxed);
      }
    };
    auto open_session = std::make_shared<OpenSession>(&socket);
    {
      std::lock_guard lock(sessions_mu);
      sessions.insert(open_session);
    }
    const ConnectionEnd connection_end{*this, open_session};
    OpenSession& open = *open_session;
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    socket.non_blocking(true, ec);  // answers are written at once when they fit (write_now.hpp)
    tcp::socket& stream = socket;
    Watchdog watchdog(stream, std::min(opts.read_timeout, opts.write_timeout));  // stops before the socket closes
    beast::flat_buffer buffer(detail::read_buffer_limit(opts.header_limit));
    buffer.reserve(detail::kRequestBufferBytes);
    std::string head;  // the response head, reused
    detail::RequestMetrics::ConnectionCache metrics_cache;
    bool first = true;
    for (;;) {
      detail::MessageParser<true> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts.header_limit));
      parser.body_limit(opts.body_limit);
      // Between requests the idle deadline applies, until the next request's first byte:
      // from then its header has the read deadline, as the first request's has.
      bool idle = !first && buffer.size() == 0;
      watchdog.expires_after(idle ? opts.idle_timeout : opts.read_timeout);
      first = false;
      // Set, then stopping checked; stop() sets stopping, then closes the sessions it finds
      // waiting: one of the two sees the other.
      open.between_requests.store(buffer.size() == 0);
      if (stopping.load()) break;
      auto hec = co_await detail::read_message(stream, buffer, parser, detail::ReadUntil::Header, [&] {
        open.between_requests.store(false);
        if (idle) watchdog.expires_after(opts.read_timeout);
      });
      // The body's bytes, charged as they arrive (those read with the header first), until
      // the answer is written.
      ByteBudget::Hold body = bodies.hold();
      if (!hec && !parser.is_done() && !body.grow(buffer.size())) hec = asio::error::no_buffer_space;
      if (!hec && parser.unknown_transfer_coding()) {
        co_await write_problem_and_close(
            stream, watchdog,
            Problem::not_implemented("The request's Transfer-Encoding names a coding this server does not undo: only chunked."),
            &parser.get());
        co_return;
      }
      if (!hec) {
        if (blocking_handlers) parser.get().received_at = std::chrono::steady_clock::now();  // the budget's start
        auto expect = parser.get().headers.get("Expect").value_or("");
        auto declared = parser.content_length();
        bool fits = !declared || *declared <= opts.body_limit;  // else the read below answers 413
        // Never to an HTTP/1.0 client, which would take the 100 as the answer (RFC 9110 §10.1.1).
        if (fits && !parser.get().http10 && iequals(expect, "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()), kTuple);
        }
        // A request without a body is complete with its header: no second coroutine.
        if (!parser.is_done()) {
          watchdog.expires_after(opts.read_timeout);
          hec = co_await detail::read_message(stream, buffer, parser, detail::ReadUntil::Message, [] {},
                                              [&](std::size_t n) { return body.grow(n); });
        }
      }
      if (hec == asio::error::no_buffer_space) {
        if (bodies_refused) bodies_refused->inc();
        co_await write_problem_and_close(
            stream, watchdog, Problem::unavailable("The server is receiving too many request bodies; retry shortly."),
            &parser.get(), /*retry_soon=*/true);
        co_return;
      }
      if (hec == bhttp::error::body_limit) {
        // The header was read: answer with the client's request id.
        co_await write_problem_and_close(stream, watchdog, Problem::payload_too_large(
            "The request body is larger than the limit of " + std::to_string(opts.body_limit) + " bytes."), &parser.get());
        co_return;
      }
      if (hec == bhttp::error::header_limit) {
        co_await write_problem_and_close(
            stream, watchdog,
            Problem::headers_too_large("The request headers are larger than " + std::to_string(opts.header_limit) + " bytes."));
        co_return;
      }
      if (hec) {
        if (detail::malformed(hec)) {
          // A header read whole (a Host refused) still gives the answer the client's request id.
          co_await write_problem_and_close(
              stream, watchdog,
              Problem::bad_request(parser.host_wrong()
                                       ? "The request's host is not valid: one Host field naming a valid host (at most "
                                         "one in HTTP/1.0), and a valid authority in a target that names the whole "
                                         "URL (RFC 9112, section 3.2)."
                                       : "The request is not valid HTTP/1.1."),
              parser.is_header_done() ? &parser.get() : nullptr);
        }
        co_return;  // closed, reset or timed out: nothing to answer
      }
      auto started = std::chrono::steady_clock::now();
      ++in_flight;
      struct InFlight {
        std::atomic<std::size_t>& n;
        ~InFlight() { --n; }
      } answering{in_flight};
      watchdog.expires_never();  // the handler's time is its own (database deadlines bound it)
      Request& req = parser.get();  // the parser lives until the answer is written: no move
      detail::complete_request(req, parser.keep_alive(), remote);
      req.client_socket = stream.native_handle();
      Response res = co_await invoke(req);
      finalize_response(req, res);
      if (opts.decorate_answer) opts.decorate_answer(req, res);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics.record(req, res.status, seconds, metrics_cache);
      bool keep = req.keep_alive && res.keep_alive && !stopping.load();  // stopping: Connection: close
      watchdog.expires_after(opts.write_timeout);
      auto wec = co_await write_response(stream, head, res, keep, req.method == "HEAD", req.http10);
      work_done.fetch_add(1, std::memory_order_relaxed);
      if (wec || !keep) break;
    }
    stream.shutdown(tcp::socket::shutdown_send, ec);
  }

  // Calls on_quiet once per quiet spell: a round of quiet_after that did no work (answered
  // nothing, closed no connection, nothing in hand, other_work unchanged) after one that did some.
  asio::awaitable<void> watch_for_quiet(asio::io_context& loop) {
    asio::steady_timer timer(loop);
    std::uint64_t seen = 0;
    bool told = true;  // nothing was answered yet: a fresh start is not a quiet spell
    for (;;) {
      timer.expires_after(opts.quiet_after);
      auto [ec] = co_await timer.async_wait(kTuple);
      if (ec) co_return;
      std::uint64_t now = work_done.load(std::memory_order_relaxed) + (opts.other_work ? opts.other_work() : 0);
      if (now != seen) {
        seen = now;
        told = false;
      } else if (!told && in_flight.load() == 0) {
        told = true;
        opts.on_quiet();
      }
    }
  }

  asio::awaitable<void> listen(tcp::acceptor& acceptor) {
    // Out of descriptors (EMFILE, ENFILE) or kernel memory, an accept fails at once, and the
    // next one would too: retrying without a pause spun the loop's thread at 100 % while
    // the shortage lasted, slowing every connection it serves. Pause 5 ms, doubling up to
    // 1 s, as Go's net/http does; the connections in hand go on meanwhile.
    constexpr auto kFirstPause = std::chrono::milliseconds(5);
    constexpr auto kLongestPause = std::chrono::seconds(1);
    std::chrono::milliseconds pause{0};
    asio::steady_timer pause_timer(acceptor.get_executor());
    for (;;) {
      // A strand when several threads share the loop: a session's timer and socket must
      // not complete concurrently. (No co_await inside ?: — GCC 12 miscompiles it.)
      auto exec = loop_per_thread ? asio::any_io_executor(acceptor.get_executor())
                                  : asio::any_io_executor(asio::make_strand(acceptor.get_executor()));
      auto [ec, socket] = co_await acceptor.async_accept(exec, kTuple);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        const bool first = pause.count() == 0;
        pause = first ? std::chrono::milliseconds(kFirstPause) : std::min<std::chrono::milliseconds>(pause * 2, kLongestPause);
        if (first) log::warn("accepting a connection failed ({}); pausing the accepts, up to 1 s apart", ec.message());
        pause_timer.expires_after(pause);
        auto [timer_ec] = co_await pause_timer.async_wait(kTuple);
        if (timer_ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;
      }
      pause = std::chrono::milliseconds(0);
      if (connections.load() >= opts.max_connections) {
        refuse_over_cap(socket, false);
        continue;  // the socket closes here
      }
      beast::error_code peer_ec;
      std::string remote = socket.remote_endpoint(peer_ec).address().to_string();
      detail::ClientPlace place;
      if (opts.max_connections_per_client > 0 && opts.connection_client && !peer_ec) {
        if (auto client = client_of(remote)) {
          auto taken = per_client.take(std::move(*client));
          if (!taken) {
            refuse_over_cap(socket, true);
            continue;
          }
          place = std::move(*taken);
        }
      }
      ++connections;
      asio::co_spawn(exec, session(std::move(socket), std::move(remote), std::move(place)), log_if_thrown("a connection"));
    }
  }

  // The loops' listeners share their port (SO_REUSEPORT), and so would any other process of
  // the same user that asks: a second gateway started by hand on a port in use started
  // without a word and took half the connections. A socket without that option binds only
  // to a port nobody listens on (SO_REUSEADDR still passes connections in TIME_WAIT), so one
  // is bound first, and closed, to fail the start as every other service's does. Best
  // effort: two gateways started at the same instant can both pass it (./sales up checks
  // the port under its lock).
  static void refuse_a_port_in_use(const tcp::endpoint& ep) {
    asio::io_context probe_loop;
    tcp::acceptor probe(probe_loop);
    probe.open(ep.protocol());
    probe.set_option(asio::socket_base::reuse_address(true));
    probe.bind(ep);  // throws "Address already in use"; never listens, so no client reaches it
  }

  void start() {
    int n_loops = loop_per_thread ? opts.threads : 1;
    auto address = asio::ip::make_address(opts.host);
    std::uint16_t port = opts.port;
    if (loop_per_thread && port != 0) refuse_a_port_in_use(tcp::endpoint(address, port));
    for (int i = 0; i < n_loops; ++i) {
      // A loop of its own per thread: every socket and timer on it is used from that thread
      // alone (stop() posts to it), so its reactor needs no per-descriptor mutex, taken
      // twice for every read and write otherwise.
      loops.push_back(std::make_unique<asio::io_context>(loop_per_thread ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO
                                                                         : opts.threads));
      auto acc = std::make_unique<tcp::acceptor>(*loops.back());
      tcp::endpoint ep(address, port);
      acc->open(ep.protocol());
      acc->set_option(asio::socket_base::reuse_address(true));
      if (loop_per_thread) {
        int one = 1;
        ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      }
      acc->bind(ep);
      acc->listen(asio::socket_base::max_listen_connections);
      port = acc->local_endpoint().port();
      asio::co_spawn(*loops.back(), listen(*acc), log_if_thrown("the listener (no more connections are accepted)"));
      acceptors.push_back(std::move(acc));
    }
    bound_port = port;
    if (opts.on_quiet) asio::co_spawn(*loops.front(), watch_for_quiet(*loops.front()), log_if_thrown("the quiet watch"));
    for (int i = 0; i < opts.threads; ++i) {
      auto* loop = loops[loop_per_thread ? i : 0].get();
      threads.emplace_back([loop] {
        for (;;) {
          try {
            loop->run();
            return;
          } catch (const std::exception& e) {
            log::error("event loop error: {}", e.what());  // keep serving
          }
        }
      });
    }
  }

  void stop() {
    if (threads.empty()) return;  // stopped already (or never started): the destructor's call
    // Stop accepting, then let the requests in hand finish and be answered (bounded): a
    // write that committed must reach its client, or the client may send it again. Each is
    // answered with Connection: close; a connection waiting for its next request is closed
    // now (its reading side shut: the session's read ends), so a client's pool sees it gone
    // instead of writing a request into it that nobody will read.
    stopping.store(true);
    {
      std::lock_guard lock(sessions_mu);
      for (const auto& open : sessions) {
        if (!open->between_requests.load()) continue;
        asio::post(open->socket->get_executor(), [open] {
          beast::error_code ec;
          // Checked again on its executor: a request may have begun meanwhile.
          if (open->ended || !open->between_requests.load() || !open->socket->is_open()) return;
          open->socket->shutdown(tcp::socket::shutdown_receive, ec);
        });
      }
    }
    for (std::size_t i = 0; i < acceptors.size(); ++i) {
      asio::post(*loops[i], [acc = acceptors[i].get()] {
        beast::error_code ec;
        acc->close(ec);
      });
    }
    // Until every session has ended (its answer written, its socket closed), at most 5 s; a
    // request in hand holds its session.
    auto sessions_left = [this] {
      std::lock_guard lock(sessions_mu);
      return !sessions.empty();
    };
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sessions_left() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& l : loops) l->stop();
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
    threads.clear();
  }
};

// Blocking handlers run start to finish on one thread, so they can carry the request's
// deadline in a thread-local scope; the gateway's coroutines cannot, and set their own.
Server::Server(ServerOptions opts, Handler handler, metrics::Registry* metrics) {
  auto h = std::make_shared<Handler>(BudgetedHandler(std::move(handler), metrics, opts.service));
  AsyncHandler async = [h](Request& r) -> asio::awaitable<Response> { co_return (*h)(r); };
  impl_ = std::make_unique<Impl>(std::move(opts), std::move(async), metrics, false);
  impl_->blocking_handlers = true;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_) impl_->stop();
}

void Server::start() { impl_->start(); }
std::uint16_t Server::port() const { return impl_->bound_port; }
void Server::stop() { impl_->stop(); }

std::unique_ptr<Server> make_async_server(ServerOptions opts, AsyncHandler handler, metrics::Registry* metrics,
                                          bool loop_per_thread) {
  return std::make_unique<Server>(
      std::make_unique<Server::Impl>(std::move(opts), std::move(handler), metrics, loop_per_thread));
}

}  // namespace sales::http

#include "api/gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cstring>
#include <random>

#include "domain/admin_sources.hpp"
#include "domain/client_address.hpp"
#include "sales/events/trace_header.hpp"
#include "sales/http/server.hpp"
#include "sales/json/writer.hpp"
#include "sales/problem/problem.hpp"
#include "sales/resilience/retry.hpp"

namespace gateway {

namespace asio = boost::asio;
namespace http = sales::http;
namespace res = sales::resilience;
using Clock = std::chrono::steady_clock;
using sales::Problem;

namespace {
// An attempt that cannot have at least this long is not started: it would only add load.
constexpr auto kMinAttemptTime = std::chrono::milliseconds(20);

// The gateway's own refusals. A 503 of ours is always worth a retry soon: Retry-After 1,
// which a caller that knows better (the open breaker) replaces.
http::Response problem(const Problem& p) {
  auto r = sales::to_response(p);
  if (p.status == 503) r.headers.set("Retry-After", "1");
  return r;
}

bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// W3C trace context (traceparent): version "-" trace id (32 hex, not all zero) "-" parent
// id (16 hex, not all zero) "-" flags. Version ff is invalid; a later version than 00 may
// append fields, up to kMaxTraceHeaderBytes here: the trace rides on the saga's events, whose
// AMQP headers must fit a frame. An invalid one is replaced: the trace starts here, as the
// spec says.
bool valid_traceparent(std::string_view v) {
  if (v.size() < 55 || v.size() > sales::events::kMaxTraceHeaderBytes ||
      (v.size() > 55 && (v[55] != '-' || v.starts_with("00")))) {
    return false;
  }
  auto version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16), flags = v.substr(53, 2);
  return lower_hex(version) && version != "ff" && v[2] == '-' && v[35] == '-' && v[52] == '-' && lower_hex(trace) &&
         !all_zero(trace) && lower_hex(parent) && !all_zero(parent) && lower_hex(flags);
}

// W3C trace context for a request that arrives without a valid one. The request id is
// already 32 random hex digits when the server generated it; a client's id of another
// shape, or one that would make an all-zero trace or parent id, gets a fresh trace id.
std::string traceparent(std::string_view request_id) {
  bool usable = request_id.size() == 32 && lower_hex(request_id) && !all_zero(request_id.substr(0, 16)) &&
                !all_zero(request_id.substr(16));
  std::string fresh_id;
  std::string_view id = request_id;
  if (!usable) id = fresh_id = http::make_request_id();
  // "00-" trace id (32) "-" parent id (16) "-01", written in place: one allocation.
  char out[55];
  std::memcpy(out, "00-", 3);
  std::memcpy(out + 3, id.data(), 32);
  out[35] = '-';
  std::memcpy(out + 36, id.data() + 16, 16);
  std::memcpy(out + 52, "-01", 3);
  return std::string(out, sizeof out);
}

std::string seconds_text(res::Duration d) { return std::to_string(res::whole_seconds_at_least_one(d)); }

// "The product service" + what: the start of every problem about an upstream. Built only
// on the failure paths.
std::string the_service(const Upstream& upstream, std::string_view what) {
  std::string text = "The ";
  text.append(upstream.name()).append(" service").append(what);
  return text;
}
// A change sent to a service that then gave no answer (it timed out, or its connection
// closed) may have been made: the problem says so, and whether a repeat is safe, instead of
// reading as if the request never arrived. A read changes nothing; a refused connection
// never carried the request.
void say_it_may_be_applied(Problem& p, const http::Request& req, bool may_retry) {
  if (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") return;
  p.detail += may_retry ? " The request may have been applied; repeating it as it was (with the same Idempotency-Key, if it had one) is safe."
                        : " The request may have been applied: check before sending it again (with an Idempotency-Key a repeat is safe).";
}

// An attempt that failed without an answer (not Overloaded or TooLarge), as the client reads it.
[[gnu::noinline]] Problem unanswered(const Upstream& upstream, const http::UpstreamError& e) {
  if (e.kind() == http::UpstreamFailure::Timeout) {
    return Problem::gateway_timeout(the_service(upstream, e.sent() ? " did not answer in time." : " could not be reached in time."));
  }
  if (e.kind() == http::UpstreamFailure::Connect) return Problem::bad_gateway(the_service(upstream, " could not be reached."));
  if (e.kind() == http::UpstreamFailure::Malformed) {
    return Problem::bad_gateway(the_service(upstream, " sent an answer the gateway cannot read (not HTTP/1.1, or a head over ") +
                                std::to_string(http::kAnswerHeadLimit >> 10) + " KiB).");
  }
  return Problem::bad_gateway(the_service(upstream, e.sent() ? " closed the connection without an answer."
                                                             : " closed the connection before the request was sent."));
}

// The breaker refused an attempt; `maybe_applied`: an earlier attempt of this request went
// out without an answer. Not a coroutine: GCC 12 misreads a Problem built in the
// coroutine's frame here (-Wmismatched-new-delete).
[[gnu::noinline]] http::Response circuit_open(const Upstream& upstream, const http::Request& req, bool maybe_applied,
                                              bool may_retry, res::Duration retry_after) {
  auto refused = Problem::unavailable(the_service(upstream, " is failing; the gateway is not sending it requests for now."));
  if (maybe_applied) say_it_may_be_applied(refused, req, may_retry);
  auto r = problem(refused);
  r.headers.set("Retry-After", seconds_text(retry_after));
  return r;
}
}  // namespace

Gateway::Gateway(GatewayConfig config, sales::metrics::Registry& registry, http::Router& own_routes)
    : config_(std::move(config)),
      registry_(registry),
      own_routes_(own_routes),
      limiter_(config_.rate_limit),
      cache_(config_.cache, registry),
      rate_limit_policy_(res::rate_limit_policy_value(config_.rate_limit)),
      answers_(config_.answers_max_bytes) {
  for (auto id : kAllUpstreams) {
    upstreams_[static_cast<std::size_t>(id)] = std::make_unique<Upstream>(id, config_, registry, answers_);
  }
  registry.callback_gauge("gateway_answers_held_bytes", "Bytes of upstream answers the gateway holds now",
                          [this] { return static_cast<double>(answers_.held()); });
  rejected_rate_limit_ = &registry.counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "rate_limited"}});
  rejected_deadline_ = &registry.counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "deadline"}});
  rejected_cors_origin_ =
      &registry.counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "cors_origin"}});
  rejected_admin_source_ =
      &registry.counter("gateway_rejections_total", "Requests refused by the gateway", {{"reason", "admin_source"}});
  forwarded_for_malformed_ = &registry.counter(
      "gateway_forwarded_for_malformed_total",
      "Requests from a trusted proxy whose X-Forwarded-For held an entry that is not an address");
  own_routes_.get("/gateway/circuit-breakers", [this](http::Request&, const http::PathParams&) { return circuit_breakers(); });
}

// RateLimit-Policy is fixed by the configuration; RateLimit (and Retry-After when refused)
// tell this client where it stands. Set on every answer, the upstream's or the gateway's.
void Gateway::add_rate_limit_headers(const res::RateLimitDecision& decision, http::Headers& out) const {
  // The policy is validated at start; the rest are digits.
  out.set_unchecked_copy(res::kRateLimitPolicyHeader, rate_limit_policy_);
  out.set_unchecked(std::string(res::kRateLimitHeader), res::rate_limit_value(decision));
  if (!decision.allowed) out.set_unchecked(std::string(res::kRetryAfterHeader), std::to_string(decision.retry_after_seconds));
}

// Not a coroutine itself: a request that is not a CORS preflight costs no extra frame.
asio::awaitable<http::Response> Gateway::handle(http::Request& req) {
  bool preflight_here = config_.cors.enabled() && CorsPolicy::is_preflight(req) && CorsPolicy::applies_to(req.path());
  return preflight_here ? preflight(req) : serve(req);
}

// Answered before the rate limiter and never forwarded: it reaches no service and costs
// the gateway little. A browser asks before each non-simple request (a JSON POST or PUT,
// one with Idempotency-Key) to a URL it has not asked about for Access-Control-Max-Age.
asio::awaitable<http::Response> Gateway::preflight(http::Request& req) {
  req.route = "cors_preflight";
  auto [answer, allowed] = config_.cors.preflight(req);
  if (!allowed) rejected_cors_origin_->inc();
  co_return std::move(answer);
}

// After the response cache, by the server (ServerOptions::decorate_answer): a stored
// answer never holds one origin's Access-Control-Allow-Origin.
void Gateway::add_cors_fields(const http::Request& req, http::Response& res) const { config_.cors.decorate(req, res); }

asio::awaitable<http::Response> Gateway::serve(http::Request& req) {
  auto path = req.path();
  if (path == "/health") {
    req.route = "/health";
    if (req.method == "GET" || req.method == "HEAD") co_return co_await health();
    co_return http::answer_other_method(req, "GET, HEAD");
  }
  auto target = upstream_for(path);
  if (!target) {
    // The gateway's own endpoints, or an honest 404 for an unknown prefix. The operator's
    // (/metrics, /gateway/...) do not exist for a peer not in GATEWAY_ADMIN_SOURCES.
    if (admin_path_refused(path, req.remote_ip, config_.admin_sources)) {
      rejected_admin_source_->inc();
      http::refuse_unknown_path(req);
    }
    co_return own_routes_.dispatch(req);
  }
  auto& upstream = *upstreams_[static_cast<std::size_t>(*target)];
  req.route = upstream.route_label();  // a 429 too counts under the routes it was asked of
  auto client = client_address(req.remote_ip, req.headers, config_.trusted_proxies);
  if (client.malformed_entry()) forwarded_for_malformed_->inc();
  std::optional<res::RateLimitDecision> limit;
  if (config_.rate_limit_enabled) limit = limiter_.check(client.key());
  if (limit && !limit->allowed) {
    rejected_rate_limit_->inc();
    auto r = problem(Problem::too_many_requests("Too many requests from this client; retry after " +
                                                std::to_string(limit->retry_after_seconds) + " s."));
    add_rate_limit_headers(*limit, r.headers);
    co_return r;
  }
  bool cacheable = cache_.serves(req);
  ResponseCache::Ticket ticket;
  if (cacheable) {
    auto found = cache_.lookup(req);
    if (found.hit) {
      if (limit) add_rate_limit_headers(*limit, found.hit->headers);
      co_return std::move(*found.hit);
    }
    ticket = found.ticket;
  }
  http::Response r = co_await proxy(req, upstream, client.peer_trusted());
  if (cacheable) {
    cache_.store(req, ticket, r);
  } else {
    cache_.invalidate_after(req, r);
  }
  if (limit) add_rate_limit_headers(*limit, r.headers);
  co_return r;
}

asio::awaitable<http::Response> Gateway::proxy(http::Request& req, Upstream& upstream, bool peer_trusted) {
  auto deadline = Clock::now() + config_.timeout;
  auto slot = upstream.bulkhead().try_enter();
  if (!slot) {
    upstream.metrics().rejected_bulkhead->inc();
    co_return problem(Problem::unavailable("Too many requests in flight to the " + std::string(upstream.name()) + " service."));
  }
  if (auto given = req.headers.get("traceparent"); !given || !valid_traceparent(*given)) {
    req.headers.set_unchecked("traceparent", traceparent(req.request_id()));  // hex
  }
  // A trusted proxy's chain is kept and the proxy appended; anyone else's is dropped.
  // Parsed fields and an address: nothing to check.
  if (peer_trusted) {
    req.headers.set_unchecked("X-Forwarded-For", forwarded_for(req.headers, req.remote_ip));
  } else {
    req.headers.set_unchecked_copy("X-Forwarded-For", req.remote_ip);
  }
  req.headers.erase("X-Request-Budget-Ms");  // the client's own: the gateway's deadline is what counts
  // Decided once: the retries here and the pool's resend on a closed connection go by it.
  const bool may_retry = safe_to_repeat(req.method, req.path(), req.headers.get("Idempotency-Key").has_value());
  thread_local res::RetryRng rng{std::random_device{}()};
  auto executor = co_await asio::this_coro::executor;
  auto& pool = upstream.pool(executor);
  // A request that will not be retried has no use for a share of the deadline: its one
  // attempt gets all of it (DESIGN §5: the deadline covers all attempts). So does one whose
  // retry the budget would refuse now (it refused one a moment ago): cutting its attempt at
  // half would turn an answer in 3 s into a 504 at 2.5 s, and a breaker failure.
  auto per_attempt =
      may_retry && !upstream.budget().refused_lately() ? attempt_timeout(config_) : config_.timeout;

  std::optional<http::Response> last;  // the last upstream answer, returned when retries end
  std::optional<Problem> failure;       // why the last attempt failed, when it had no answer
  bool maybe_applied = false;           // an attempt was sent and got no answer
  res::RetryGrant retry_grant;          // the budget's grant for the retry about to go
  for (int retries = 0;; ++retries) {
    auto permit = upstream.breaker().try_acquire();
    if (!permit) {
      if (retry_grant) {  // that retry is never sent
        upstream.budget().give_back(retry_grant);
        upstream.metrics().retries_refused_by_breaker->inc();
      }
      if (last) co_return std::move(*last);  // the upstream's own answer: nothing was refused
      upstream.metrics().rejected_circuit_open->inc();
      co_return circuit_open(upstream, req, maybe_applied, may_retry, permit.retry_after());
    }
    // What reaches the upstream: the retry budget's measure of demand, and the retries made.
    if (retries == 0) {
      upstream.budget().record_request();
    } else {
      upstream.metrics().retries->inc();
    }
    auto start = Clock::now();
    auto attempt_deadline = std::min(deadline, start + per_attempt);
    bool retryable_failure = false;
    try {
      // The pool writes X-Request-Budget-Ms: the attempt's time left once connected.
      http::Response r = co_await pool.send(req, attempt_deadline, may_retry, /*tell_budget=*/true);
      auto latency = Clock::now() - start;
      upstream.metrics().latency->observe(std::chrono::duration<double>(latency).count());
      // The upstream answered, but a service it calls is out (the order service's product
      // look-up): its breaker hears nothing of it, neither a failure (one failing service
      // would open the breakers of every service that calls it) nor a success (which would
      // hide the upstream's own failures in the same window, or close a half-open breaker);
      // and it is not retried, since the upstream has asked that service itself.
      const bool dependency_out = r.status == 503 && r.headers.get(sales::kDependencyUnavailableHeader);
      if (dependency_out) {
        permit.release_without_result();
        upstream.metrics().dependency_unavailable->inc();
      } else if (r.status >= 500) {
        permit.on_failure();
        upstream.metrics().failed->inc();
      } else {
        permit.on_success(latency);
        upstream.metrics().ok->inc();
      }
      if (!may_retry || !res::retryable_status(r.status) || dependency_out) co_return r;
      retryable_failure = true;
      last = std::move(r);
    } catch (const http::UpstreamError& e) {
      // Failed attempts count in the latency too: an incident's timeouts are its tail.
      upstream.metrics().latency->observe(std::chrono::duration<double>(Clock::now() - start).count());
      last.reset();
      if (e.kind() == http::UpstreamFailure::Overloaded) {
        // The gateway's own limit, not the upstream's failure; a retry would add to the load.
        permit.release_without_result();
        upstream.metrics().dropped->inc();
        upstream.metrics().rejected_answers_full->inc();
        failure = Problem::unavailable(
            "The gateway holds too many answers at once and dropped the " + std::string(upstream.name()) +
            " service's." + (may_retry ? "" : " The request may have been applied before its answer was dropped."));
      } else if (e.kind() == http::UpstreamFailure::TooLarge) {
        // The upstream works (it answered): its breaker hears nothing, and a second try
        // would fetch the same answer.
        permit.release_without_result();
        upstream.metrics().too_large->inc();
        failure = Problem::bad_gateway(the_service(upstream, "'s answer is larger than the ") +
                                       std::to_string(kMaxUpstreamAnswerBytes >> 20) + " MiB the gateway passes on.");
      } else {
        permit.on_failure();
        upstream.metrics().failed->inc();
        // Only a request that went out may have been applied: not one whose connect or
        // name lookup failed or timed out, nor one whose write failed.
        maybe_applied = maybe_applied || e.sent();
        failure = unanswered(upstream, e);
        retryable_failure = may_retry;
      }
    }
    if (!retryable_failure) break;
    // No retry fits before the deadline (with its jitter drawn): the last attempt's own
    // failure is the answer, a 502 for a connection closed early, not a 504 that says the
    // deadline passed while some of it is left.
    auto decision = config_.retry.next_attempt(retries, Clock::now(), deadline, rng, kMinAttemptTime);
    if (!decision) break;
    retry_grant = upstream.budget().try_acquire_retry();
    if (!retry_grant) {
      upstream.metrics().retries_refused_by_budget->inc();
      break;
    }
    co_await http::sleep_for(decision.delay);
    // Nobody waits for a retry's answer once the client has gone: sending it would only add
    // to the load of an upstream already failing, and hold a bulkhead slot.
    if (http::client_left(req)) {
      upstream.budget().give_back(retry_grant);
      upstream.metrics().retries_client_left->inc();
      break;
    }
  }
  if (last) co_return std::move(*last);
  if (!failure) failure = Problem::bad_gateway(the_service(upstream, " could not be reached."));
  if (maybe_applied) say_it_may_be_applied(*failure, req, may_retry);
  if (failure->status == 504) rejected_deadline_->inc();
  co_return problem(*failure);
}

http::Response Gateway::circuit_breakers() const {
  sales::json::Writer w;
  w.begin_object();
  for (const auto& u : upstreams_) {
    w.key(u->name());
    u->write_state(w);
  }
  w.end_object();
  return http::Response::json(200, w.take());
}

// At most one round of probes per loop thread at a time: a request that arrives while one
// runs takes its answer, at most its 1 s deadline old.
asio::awaitable<http::Response> Gateway::health() {
  auto executor = co_await asio::this_coro::executor;
  const auto thread = std::this_thread::get_id();
  std::shared_ptr<HealthRound> round;
  bool leader = false;
  {
    std::lock_guard lock(health_mu_);
    auto& running = health_rounds_[thread];
    if (!running) {
      running = std::make_shared<HealthRound>(executor);
      leader = true;
    }
    round = running;
  }
  if (!leader) {
    co_await round->done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (round->answer) co_return *round->answer;
    co_return problem(Problem::unavailable("The gateway could not probe its upstreams."));
  }
  struct EndRound {  // also when probing fails: the waiters wake, the next request probes
    Gateway& gateway;
    std::thread::id thread;
    HealthRound& round;
    ~EndRound() {
      {
        std::lock_guard lock(gateway.health_mu_);
        gateway.health_rounds_.erase(thread);
      }
      round.done.cancel();
    }
  } end_round{*this, thread, *round};
  round->answer = co_await probe_all();
  co_return *round->answer;
}

// The upstreams are probed at once: the answer takes the slowest probe's time (at most
// its 1 s deadline), not the sum. The probes run on this loop's thread, so the shared
// state needs no lock.
asio::awaitable<http::Response> Gateway::probe_all() {
  auto executor = co_await asio::this_coro::executor;
  auto probes = std::make_shared<HealthProbes>(executor);
  probes->all_done.expires_after(std::chrono::seconds(5));  // a bound in case a probe never ends
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    asio::co_spawn(executor, probe(*upstreams_[i], probes, i), asio::detached);
  }
  // Cancelled by the last probe. A probe that fails at once (its name failed to resolve less
  // than a second ago) ends before its co_spawn returns; when all did, there is no wait.
  if (probes->pending > 0) co_await probes->all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  sales::json::Writer w;
  w.begin_object().field("gateway", "ready").key("upstreams").begin_object();
  bool all_ready = true;
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    all_ready = all_ready && probes->ready[i];
    w.field(upstreams_[i]->name(), probes->ready[i] ? "ready" : "not ready");
  }
  w.end_object().field("status", all_ready ? "ready" : "degraded").end_object();
  co_return http::Response::json(all_ready ? 200 : 503, w.take());
}

asio::awaitable<void> Gateway::probe(Upstream& upstream, std::shared_ptr<HealthProbes> probes, std::size_t index) {
  http::Request req;
  req.method = "GET";
  req.target = "/health/ready";
  try {
    auto executor = co_await asio::this_coro::executor;
    auto r = co_await upstream.pool(executor).send(req, Clock::now() + std::chrono::seconds(1), /*repeatable=*/true);
    probes->ready[index] = r.status == 200;
  } catch (const http::UpstreamError&) {
  }
  if (--probes->pending == 0) probes->all_done.cancel();
}

}  // namespace gateway

#include "sales/http/address_book.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

#include "sales/metrics/metrics.hpp"

namespace sales::http {

Resolver system_resolver() {
  return [](const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
      throw std::runtime_error(rc == EAI_SYSTEM ? std::string("system error") : std::string(::gai_strerror(rc)));
    }
    Addresses out;
    char text[INET6_ADDRSTRLEN];
    for (auto* a = found; a; a = a->ai_next) {
      const void* raw = a->ai_family == AF_INET6
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
      if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) && ::inet_ntop(a->ai_family, raw, text, sizeof text)) {
        if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
      }
    }
    ::freeaddrinfo(found);
    return out;
  };
}

namespace {
constexpr std::size_t kMaxWakers = 1024;  // event-loop calls woken early by one resolution

// A host that is an IP address ("127.0.0.1", "::1", or "[::1]" as a URL writes it) as its
// one address, in the form the resolver gives; empty for a name.
Addresses numeric_address(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string text(host);
  unsigned char raw[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN];
  for (int family : {AF_INET, AF_INET6}) {
    if (::inet_pton(family, text.c_str(), raw) == 1 && ::inet_ntop(family, raw, out, sizeof out)) return {out};
  }
  return {};
}

// How a name's resolutions went, per host, in the process's registry: the books of one
// host (a client's and the gateway's, say) count together.
struct ResolutionCounters {
  metrics::Counter* ok = nullptr;
  metrics::Counter* failed = nullptr;
  metrics::Counter* outrun = nullptr;  // ended after a newer answer: said nothing
  metrics::Counter* overdue = nullptr;  // started beside one running past overdue_after

  explicit ResolutionCounters(const std::string& host) {
    auto& registry = metrics::global();
    const std::string help = "Name resolutions ended: answered, failed, or outrun by a newer answer";
    ok = &registry.counter("sales_name_resolutions_total", help, {{"host", host}, {"result", "ok"}});
    failed = &registry.counter("sales_name_resolutions_total", help, {{"host", host}, {"result", "failed"}});
    outrun = &registry.counter("sales_name_resolutions_total", help, {{"host", host}, {"result", "outrun"}});
    overdue = &registry.counter("sales_name_resolutions_overdue_total",
                                "Resolutions started beside one that ran past its overdue time (a slow or lossy "
                                "DNS server)",
                                {{"host", host}});
  }
};
}  // namespace

struct AddressBook::State {
  State(std::string h, Resolver r, Options o)
      : host(std::move(h)), numeric(numeric_address(host)), resolver(std::move(r)), options(o) {
    if (numeric.empty()) counters.emplace(host);  // an address is never resolved: nothing to count
  }
  const std::string host;
  // The host's own address when it is one: nothing to resolve, now or later, so calls get
  // it without the lock and no resolver thread ever starts for it.
  const Addresses numeric;
  const Resolver resolver;
  const Options options;
  std::optional<ResolutionCounters> counters;

  std::mutex mu;
  std::condition_variable resolution_ended;
  Addresses last_good;
  Clock::time_point resolved_at;
  Clock::time_point good_started;  // when the resolution that found last_good began
  bool suspect = false;  // a connect to last_good failed since they resolved
  int resolving = 0;     // resolutions running
  Clock::time_point newest_started;   // when the newest of them began
  std::uint64_t waits_ended = 0;      // times the calls waiting were answered
  std::string last_error;       // of the last resolution; empty when it succeeded
  Clock::time_point failed_at;  // when a resolution last failed
  std::vector<std::function<void()>> wakers;  // of event-loop calls waiting for the resolution
  bool book_gone = false;

  // One resolution at a time, and another beside it only once it is overdue: a slow
  // resolver holds a few threads per book, not one per call.
  static void start_resolving(const std::shared_ptr<State>& self, Clock::time_point now) {
    auto& s = *self;
    if (s.resolving > 0 &&
        (s.resolving >= s.options.max_resolutions || now - s.newest_started < s.options.overdue_after)) {
      return;
    }
    const bool beside_another = s.resolving > 0;
    ++s.resolving;  // before the thread: it takes mu before it ends, so it is counted in time
    try {
      std::thread([self, now] { self->resolve(now); }).detach();
    } catch (const std::system_error& e) {
      s.ended(now, {}, std::string("cannot start a resolver thread: ") + e.what());
      return;
    }
    if (beside_another) s.counters->overdue->inc();
    s.newest_started = now;
  }

  void resolve(Clock::time_point started) {
    Addresses found;
    std::string error;
    try {
      found = resolver(host);
      if (found.empty()) error = "no addresses";
    } catch (const std::exception& e) {
      error = e.what();
    }
    std::lock_guard lock(mu);
    ended(started, std::move(found), std::move(error));
  }

  // With mu held: a resolution begun at `started` ended with `found`, or `error` when not empty.
  void ended(Clock::time_point started, Addresses found, std::string error) {
    --resolving;
    // An overdue resolution that a newer answer came before says nothing new, either way.
    const bool outrun = started < good_started;
    (outrun ? counters->outrun : error.empty() ? counters->ok : counters->failed)->inc();
    if (!outrun) {
      if (error.empty()) {
        last_good = std::move(found);
        resolved_at = Clock::now();
        good_started = started;
        suspect = false;
      } else {
        failed_at = Clock::now();
      }
      last_error = std::move(error);
    }
    // The calls waiting are answered by a new answer, or by the last resolution to end
    // when none came (a failure while another still runs leaves them waiting for it).
    if ((!outrun && last_error.empty()) || resolving == 0) answer_waiters();
  }

  // With mu held. Wakers run under the lock so that none runs after the book (and the event
  // loop they post to) is gone.
  void answer_waiters() {
    ++waits_ended;
    resolution_ended.notify_all();
    if (!book_gone) {
      for (auto& wake : wakers) wake();
    }
    wakers.clear();
  }

  // With mu held: when a call may stop waiting for the resolver (`now` when it need not
  // wait).
  static Clock::time_point plan(const std::shared_ptr<State>& self, Clock::time_point now, Clock::time_point deadline) {
    auto& s = *self;
    if (!s.last_good.empty() && !s.suspect) {
      // One refresh at a time: no call waits for it, so one that hangs holds nobody up.
      if (now - s.resolved_at >= s.options.refresh_after && s.resolving == 0) start_resolving(self, now);
      return now;
    }
    if (s.resolving == 0 && !s.last_error.empty() && now - s.failed_at < s.options.retry_failed_after) return now;
    start_resolving(self, now);
    if (s.resolving == 0 || s.last_good.empty()) return deadline;  // nothing to fall back to
    // Counted from when the newest resolution began, so calls arriving while a slow one
    // runs do not each wait the full time again.
    auto fallback_at = s.newest_started + s.options.fallback_wait;
    return std::max(now, std::min(deadline, fallback_at));
  }

  // With mu held: the newest addresses, else the last good ones, else why there are none.
  Addresses answer() const {
    if (!last_good.empty()) return last_good;
    if (resolving > 0) {
      throw ResolveError("resolve " + host + ": no answer from the resolver before the deadline", true);
    }
    throw ResolveError("resolve " + host + ": " + last_error, false);
  }
};

AddressBook::AddressBook(std::string host, Resolver resolver, Options options)
    : state_(std::make_shared<State>(std::move(host), resolver ? std::move(resolver) : system_resolver(), options)) {}

AddressBook::~AddressBook() {
  std::lock_guard lock(state_->mu);
  state_->book_gone = true;
  state_->wakers.clear();
}

const std::string& AddressBook::host() const { return state_->host; }

Addresses AddressBook::lookup(Clock::time_point deadline) {
  if (!state_->numeric.empty()) return state_->numeric;
  std::unique_lock lock(state_->mu);
  auto until = State::plan(state_, Clock::now(), deadline);
  const auto ended_before = state_->waits_ended;
  auto ended = [&] { return state_->resolving == 0 || state_->waits_ended != ended_before; };
  if (until == Clock::time_point::max()) {
    state_->resolution_ended.wait(lock, ended);
  } else if (until > Clock::now()) {
    state_->resolution_ended.wait_until(lock, until, ended);
  }
  return state_->answer();
}

std::optional<AddressBook::Clock::time_point> AddressBook::begin(Clock::time_point deadline,
                                                                 std::function<void()> wake) {
  if (!state_->numeric.empty()) return std::nullopt;
  std::lock_guard lock(state_->mu);
  const auto now = Clock::now();
  auto until = State::plan(state_, now, deadline);
  if (until <= now || state_->resolving == 0) return std::nullopt;
  // While a resolver hangs, every call that has to wait would add one; past the cap a call
  // just sleeps until `until` (its fallback time or deadline), as it would without a wake.
  if (state_->wakers.size() < kMaxWakers) state_->wakers.push_back(std::move(wake));
  return until;
}

Addresses AddressBook::answer() {
  if (!state_->numeric.empty()) return state_->numeric;
  std::lock_guard lock(state_->mu);
  return state_->answer();
}

void AddressBook::connect_failed() {
  if (!state_->numeric.empty()) return;  // an address stays itself: resolving again finds nothing new
  std::lock_guard lock(state_->mu);
  state_->suspect = true;
}

}  // namespace sales::http

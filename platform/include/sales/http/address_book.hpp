#pragma once
// What one host name resolves to, for the clients that call other services (the blocking
// service client, the gateway's upstream pools). getaddrinfo blocks for as long as the
// resolver takes (seconds when it is slow or failing, as in Docker Compose right after
// start), and nothing can cancel it. So a resolution runs on a thread of its own and a call
// waits for it only until its deadline; the addresses that last resolved are kept and used
// when the resolver fails or is slow, since a service that answered there a moment ago most
// likely still does. A resolution that runs overdue does not hold the name: the next call
// starts another beside it (a few at most), since a query sent before the resolver knew the
// name (a container just started) can hang for the resolver's whole retry schedule, tens of
// seconds, while a new one is answered at once. A host that is an IP address (127.0.0.1,
// ::1) is its own answer: it is never resolved, so it costs no thread and is never refreshed.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sales::http {

// Numeric addresses ("10.0.0.7", "::1").
using Addresses = std::vector<std::string>;

// Resolves a host name to its addresses; throws (any std::exception) when it cannot. It may
// block: an AddressBook runs it on a thread of its own, a few at most at a time per book.
using Resolver = std::function<Addresses(const std::string& host)>;

// getaddrinfo (TCP, configured address families).
Resolver system_resolver();

class ResolveError : public std::runtime_error {
 public:
  ResolveError(const std::string& what, bool timed_out) : std::runtime_error(what), timed_out_(timed_out) {}
  // The resolver did not answer before the deadline (rather than answering "no").
  [[nodiscard]] bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};

struct AddressBookOptions {
  // Addresses older than this are resolved again in the background (DNS answers change: a
  // container re-created elsewhere, round robin); calls keep using them meanwhile.
  std::chrono::steady_clock::duration refresh_after = std::chrono::seconds(30);
  // How long calls that have last good addresses wait for a resolution before using them: a
  // healthy resolver answers in about a millisecond, and a call should keep its time for
  // the exchange itself.
  std::chrono::steady_clock::duration fallback_wait = std::chrono::milliseconds(200);
  // After a failed resolution, calls within this time get its answer (the last good
  // addresses, or the failure) without asking the resolver again: a name that does not
  // resolve would otherwise start a resolution for every call, one after another.
  std::chrono::steady_clock::duration retry_failed_after = std::chrono::seconds(1);
  // A resolution running this long is overdue: a call then starts another beside it, up to
  // max_resolutions at once, and the first answer serves them all.
  std::chrono::steady_clock::duration overdue_after = std::chrono::seconds(1);
  int max_resolutions = 4;
};

class AddressBook {
 public:
  using Clock = std::chrono::steady_clock;
  using Options = AddressBookOptions;

  explicit AddressBook(std::string host, Resolver resolver = {}, Options options = {});  // {}: the system's
  ~AddressBook();
  AddressBook(const AddressBook&) = delete;
  AddressBook& operator=(const AddressBook&) = delete;

  // Blocking: the host's addresses, by `deadline` at the latest. Throws ResolveError when
  // the host never resolved and the resolver failed or did not answer in time.
  Addresses lookup(Clock::time_point deadline);

  // The same for an event loop, in two steps. begin() returns nothing when answer() can be
  // called now; otherwise the time to wait until at most, and `wake` is called (on the
  // resolver's thread, so it should only post) if the resolution ends sooner.
  std::optional<Clock::time_point> begin(Clock::time_point deadline, std::function<void()> wake);
  Addresses answer();

  // A connect to every address failed (the service moved, or is down): the next call
  // resolves again before trusting them, and uses them only if that fails.
  void connect_failed();

  [[nodiscard]] const std::string& host() const;
  struct State;

 private:
  std::shared_ptr<State> state_;  // shared with a resolution still running when the book goes
};

}  // namespace sales::http

// End to end, against the running system (./sales up; ./sales test exports SALES_GATEWAY_URL
// and SALES_STATE_DIR): the real customer service is frozen with SIGSTOP, so it accepts
// connections and never answers, the way a hung process does.
//   - a request through the gateway ends with a 504 problem near the gateway's deadline;
//   - more failures open the customer breaker: then 503 at once, with Retry-After;
//   - meanwhile the product service, behind the same gateway, answers as usual;
//   - after SIGCONT the customer route recovers by itself (half-open trials), no restart.
// The customer service is thawed in every case: by a scope guard, and by a watchdog
// process should this test process die while it is frozen.
//
// Duration with the default settings (5 s deadline, 10 s open time): about 20 s, of which
// the customer service is frozen for about 8 s. Every wait is bounded.
#include <gtest/gtest.h>

#include <cerrno>
#include <ctime>
#include <future>

#include "domain/gateway_config.hpp"
#include "support/harness.hpp"

namespace gateway_test {
namespace {

// The pid of a service started by ./sales, checked to be running that service's binary
// (a stale pid file must not make us stop some other process).
pid_t service_pid(const std::string& state_dir, const std::string& name) {
  auto text = read_file(state_dir + "/run/" + name + ".pid");
  pid_t pid = static_cast<pid_t>(std::atol(text.c_str()));
  if (pid <= 1) throw std::runtime_error("no pid in " + state_dir + "/run/" + name + ".pid: is the system up?");
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
  if (ec || exe.find("/sales-" + name) == std::string::npos) {
    throw std::runtime_error("pid " + std::to_string(pid) + " from the pid file is not sales-" + name + " (" + exe + ")");
  }
  return pid;
}

// The running gateway's settings, read the way it read them: its .env file (if any), then
// its environment on top, through the gateway's own read_gateway_config.
gateway::GatewayConfig running_gateway_config(pid_t gateway_pid) {
  const std::string proc = "/proc/" + std::to_string(gateway_pid);
  std::map<std::string, std::string> values;
  auto environ_text = read_file(proc + "/environ");
  std::map<std::string, std::string> environ_values;
  for (std::size_t at = 0; at < environ_text.size();) {
    auto end = environ_text.find('\0', at);
    if (end == std::string::npos) end = environ_text.size();
    auto kv = environ_text.substr(at, end - at);
    if (auto eq = kv.find('='); eq != std::string::npos) environ_values[kv.substr(0, eq)] = kv.substr(eq + 1);
    at = end + 1;
  }
  std::string dotenv = environ_values.count("SALES_ENV_FILE") ? environ_values["SALES_ENV_FILE"] : proc + "/cwd/.env";
  values = sales::config::parse_dotenv(read_file(dotenv));
  for (auto& [k, v] : environ_values) values[k] = v;
  sales::config::Env env(values);
  return gateway::read_gateway_config(env);
}

// SIGSTOP now; SIGCONT when thaw() is called or the guard goes out of scope. A watchdog
// process sends SIGCONT after `at_most` regardless, should this process die meanwhile.
class Freeze {
 public:
  Freeze(pid_t pid, std::chrono::seconds at_most) : pid_(pid) {
    watchdog_ = ::fork();
    if (watchdog_ < 0) throw std::runtime_error("fork failed");
    if (watchdog_ == 0) {  // async-signal-safe only
      ::setsid();            // outlives a kill of this test's process group
      timespec t{static_cast<time_t>(at_most.count()), 0};
      while (::clock_nanosleep(CLOCK_MONOTONIC, 0, &t, &t) == EINTR) {
      }
      ::kill(pid, SIGCONT);
      ::_exit(0);
    }
    if (::kill(pid_, SIGSTOP) != 0) {
      stop_watchdog();
      throw std::runtime_error("cannot SIGSTOP pid " + std::to_string(pid_));
    }
    frozen_ = true;
    // kill() wakes one thread, which then stops the others: until they have stopped, one of
    // them may still answer (seen once on a busy machine: a 404 1 ms after the "freeze").
    if (!eventually([this] { return all_threads_stopped(); }, 5s, 1ms)) {
      thaw();
      throw std::runtime_error("pid " + std::to_string(pid_) + " did not stop within 5 s of SIGSTOP");
    }
  }
  ~Freeze() { thaw(); }
  Freeze(const Freeze&) = delete;
  Freeze& operator=(const Freeze&) = delete;

  void thaw() {
    if (frozen_) ::kill(pid_, SIGCONT);
    frozen_ = false;
    stop_watchdog();
  }

 private:
  // Every thread's state in /proc is T (stopped).
  bool all_threads_stopped() const {
    std::error_code ec;
    const std::string task = "/proc/" + std::to_string(pid_) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(task, ec)) {
      auto stat = read_file(entry.path().string() + "/stat");
      auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
      if (close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'T') return false;
    }
    return !ec;
  }

  void stop_watchdog() {
    if (watchdog_ > 0) {
      ::kill(watchdog_, SIGKILL);
      ::waitpid(watchdog_, nullptr, 0);
    }
    watchdog_ = -1;
  }

  pid_t pid_;
  pid_t watchdog_ = -1;
  bool frozen_ = false;
};

Response try_get(const std::string& base, const std::string& target, Ms timeout) {
  try {
    return get(base, target, {}, timeout);
  } catch (const std::exception& e) {
    Response r;
    r.status = -1;  // no HTTP answer at all
    r.body = e.what();
    return r;
  }
}

TEST(GatewayFreezeE2E, AFrozenServiceTimesOutOpensItsBreakerAndRecoversWithoutRestart) {
  const std::string gw = sales_test::gateway_url();
  const std::string state = sales_test::require_env("SALES_STATE_DIR");
  const pid_t customer_pid = service_pid(state, "customer");
  const auto config = running_gateway_config(service_pid(state, "gateway"));
  const Ms timeout = config.timeout;
  const Ms open_time = std::chrono::duration_cast<Ms>(config.breaker.open_duration);
  const Ms client_timeout = timeout + 10s;
  const auto test_start = Clock::now();
  std::cout << "gateway: timeout " << timeout.count() << " ms, breaker open " << open_time.count()
            << " ms, minimum calls " << config.breaker.minimum_calls << ", retries " << config.retry.max_retries
            << "\n";
  ASSERT_GT(config.breaker.minimum_calls, static_cast<std::size_t>(config.retry.max_retries + 1))
      << "this test expects one request not to open the breaker by itself";

  // The baseline: both routes healthy, the customer breaker closed (a previous run may have
  // left it open: wait for it, bounded).
  const std::string customer_target = "/customers/1";
  const std::string product_target = "/products";
  int customer_ok = 0, product_ok = 0;
  ASSERT_TRUE(eventually(
      [&] {
        customer_ok = try_get(gw, customer_target, client_timeout).status;
        return customer_ok > 0 && customer_ok < 500 && breaker_state(gw, "customer") == "closed";
      },
      open_time + timeout + 10s, 250ms))
      << "the customer route is not healthy before the test: " << customer_ok;
  product_ok = try_get(gw, product_target, client_timeout).status;
  ASSERT_TRUE(product_ok > 0 && product_ok < 500) << "the product route is not healthy: " << product_ok;

  {
    Freeze frozen(customer_pid, std::chrono::duration_cast<std::chrono::seconds>(4 * timeout + 60s));
    const auto frozen_at = Clock::now();

    // 1. One request: 504 problem near the deadline (all its attempts fit in it).
    auto t0 = Clock::now();
    auto r = try_get(gw, customer_target, client_timeout);
    auto took = since(t0);
    std::cout << "frozen customer: " << r.status << " after " << took.count() << " ms\n";
    EXPECT_TRUE(is_problem(r, 504)) << r.status << " " << r.body;
    EXPECT_GE(took, timeout - 200ms);
    EXPECT_LE(took, timeout + 2000ms);

    // 2. More failures, concurrently (so this takes one deadline, not ten), until the
    //    breaker opens: then 503 at once with Retry-After, and nothing reaches the service.
    bool open = false;
    Response refused;
    Ms refused_took{};
    const auto open_by = Clock::now() + 3 * timeout + 20s;
    while (!open && Clock::now() < open_by) {
      std::vector<std::future<Response>> batch;
      for (std::size_t i = 0; i < config.breaker.minimum_calls; ++i) {
        batch.push_back(std::async(std::launch::async, [&] { return try_get(gw, customer_target, client_timeout); }));
      }
      for (auto& f : batch) {
        auto b = f.get();
        EXPECT_TRUE(b.status == 504 || b.status == 503) << b.status << " " << b.body;
      }
      auto t1 = Clock::now();
      refused = try_get(gw, customer_target, client_timeout);
      refused_took = since(t1);
      open = refused.status == 503 && breaker_state(gw, "customer") == "open";
    }
    ASSERT_TRUE(open) << "the customer breaker did not open; last answer " << refused.status << " " << refused.body;
    std::cout << "breaker open " << since(frozen_at).count() << " ms after the freeze\n";
    EXPECT_TRUE(is_problem(refused, 503)) << refused.body;
    EXPECT_LT(refused_took, 1000ms) << "an open breaker answers at once";
    auto retry_after = int_header(refused, "Retry-After");
    ASSERT_TRUE(retry_after.has_value()) << "Retry-After missing";
    EXPECT_GE(*retry_after, 1);
    EXPECT_LE(*retry_after, std::chrono::ceil<std::chrono::seconds>(open_time).count());

    // 3. Other services are not affected: the product route still answers, at once.
    auto t2 = Clock::now();
    auto p = try_get(gw, product_target, client_timeout);
    EXPECT_EQ(p.status, product_ok) << p.body;
    EXPECT_LT(since(t2), 2000ms);
    EXPECT_EQ(breaker_state(gw, "product"), "closed");
    auto b = breaker(gw, "customer");
    EXPECT_GE(b.at("rejected_calls").to_number<std::int64_t>(), 1);
    std::cout << "customer frozen for " << since(frozen_at).count() << " ms\n";
  }  // SIGCONT

  // 4. Thawed: within the open time and a few seconds, the route answers as before, and the
  //    breaker closes after its trial calls. No restart anywhere.
  const auto thawed_at = Clock::now();
  const Ms recovery_limit = open_time + timeout + 10s;
  int last = 0;
  bool recovered = eventually(
      [&] {
        last = try_get(gw, customer_target, client_timeout).status;
        return last == customer_ok;
      },
      recovery_limit, 200ms);
  EXPECT_TRUE(recovered) << "no recovery within " << recovery_limit.count() << " ms of SIGCONT; last " << last;
  std::cout << "recovered " << since(thawed_at).count() << " ms after SIGCONT\n";
  EXPECT_TRUE(eventually(
      [&] { return try_get(gw, customer_target, client_timeout).status == customer_ok && breaker_state(gw, "customer") == "closed"; },
      10s, 100ms))
      << "the customer breaker did not close again: " << breaker_state(gw, "customer");
  EXPECT_EQ(service_pid(state, "customer"), customer_pid) << "recovered without a restart";
  std::cout << "test took " << since(test_start).count() << " ms\n";
}

}  // namespace
}  // namespace gateway_test

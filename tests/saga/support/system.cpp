#include "support/system.hpp"

#include <csignal>
#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>
#include <unistd.h>

#include "sales/amqp/connection.hpp"
#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace saga {

namespace fs = std::filesystem;

pid_t service_pid(const std::string& name) {
  fs::path pidfile = fs::path(sales_test::require_env("SALES_STATE_DIR")) / "run" / (name + ".pid");
  std::ifstream in(pidfile);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return 0;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return 0;
  std::error_code ec;
  auto exe = fs::read_symlink(fs::path("/proc") / std::to_string(pid) / "exe", ec);
  if (ec) return 0;
  // The executable must be the service's binary (a recycled pid must never be killed).
  std::string e = exe.string();
  if (e.find("sales-" + name) == std::string::npos) return 0;
  return static_cast<pid_t>(pid);
}

namespace {

// The state and parent pid of a process, from /proc/<pid>/stat (state '?' when it is gone).
struct ProcStat {
  char state = '?';
  long ppid = 0;
};
ProcStat proc_stat(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  ProcStat st;
  if (!std::getline(in, line)) return st;
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 1));
  rest >> st.state >> st.ppid;
  return st;
}

// Waits (bounded, 2 s) until the SIGKILLed process is gone, so ./sales up sees it down. A
// zombie still answers kill(0); its parent reaps it (a service's setsid bash exec'd into it
// is reparented to init; PostgreSQL's backends have lost their postmaster to init too).
void wait_gone(pid_t pid) {
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) {
    if (proc_stat(pid).state == 'Z') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

pid_t kill_service(const std::string& name) {
  pid_t pid = service_pid(name);
  if (pid <= 0) return 0;
  if (::kill(pid, SIGKILL) != 0) return 0;
  wait_gone(pid);
  return pid;
}

pid_t crash_postgres() {
  fs::path lockfile = fs::path(sales_test::require_env("SALES_STATE_DIR")) / "pg" / "data" / "postmaster.pid";
  std::ifstream in(lockfile);
  long postmaster = 0;
  if (!(in >> postmaster) || postmaster <= 1 || ::kill(static_cast<pid_t>(postmaster), 0) != 0) return 0;
  std::error_code ec;
  // A stale lock file's pid may have been recycled: only a postgres executable is killed.
  if (fs::read_symlink(fs::path("/proc") / std::to_string(postmaster) / "exe", ec).filename() != "postgres") return 0;
  // Stopped first, the postmaster forks no backend while its children are listed (each one
  // in a session of its own, so no process group takes them all), and none is reaped and
  // its pid reused before it is killed: children first, then the postmaster.
  if (::kill(static_cast<pid_t>(postmaster), SIGSTOP) != 0) return 0;
  std::vector<pid_t> children;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (proc_stat(std::stol(name)).ppid == postmaster) children.push_back(static_cast<pid_t>(std::stol(name)));
  }
  for (pid_t child : children) ::kill(child, SIGKILL);
  ::kill(static_cast<pid_t>(postmaster), SIGKILL);
  for (pid_t child : children) wait_gone(child);
  wait_gone(static_cast<pid_t>(postmaster));
  return static_cast<pid_t>(postmaster);
}

pid_t pause_service(const std::string& name) {
  pid_t pid = service_pid(name);
  return pid > 0 && ::kill(pid, SIGSTOP) == 0 ? pid : 0;
}

pid_t resume_service(const std::string& name) {
  pid_t pid = service_pid(name);
  return pid > 0 && ::kill(pid, SIGCONT) == 0 ? pid : 0;
}

void resume_all() {
  for (const auto& n : kAllServices) resume_service(n);
}

CommandResult run_sales(const std::string& args) {
  CommandResult res;
  auto start = std::chrono::steady_clock::now();
  std::string cmd = "SALES_SKIP_BUILD=1 '" + sales_test::require_env("SALES_ROOT") + "/sales' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    res.output = "popen failed";
    return res;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) res.output.append(buf, n);
  int status = ::pclose(p);
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  res.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return res;
}

CommandResult sales_up() { return run_sales("up"); }

CommandResult restart_rabbitmq() {
  CommandResult down = run_sales("down rabbitmq");
  CommandResult up = run_sales("up");
  up.output = "$ ./sales down rabbitmq\n" + down.output + "$ ./sales up\n" + up.output;
  up.took += down.took;
  if (down.exit_code != 0) up.exit_code = down.exit_code;
  return up;
}

namespace {
// A cheap route per upstream, probed through the gateway (its breaker must let calls through).
const std::map<std::string, std::string> kProbe = {
    {"product", "/products?limit=1"},  {"customer", "/customers?limit=1"}, {"order", "/orders?limit=1"},
    {"payment", "/payments?limit=1"},  {"inventory", "/inventory/stock?limit=1"},
    {"shipping", "/shipping?limit=1"},
};
}  // namespace

bool ready(const std::vector<std::string>& names, std::string* not_ready) {
  std::string bad;
  for (const auto& n : names) {
    Res r = n == "gateway" ? get("/health") : service_get(n, "/health/ready");
    if (r.status != 200) {
      bad += " " + n + "(" + (r.status ? std::to_string(r.status) : std::string("down")) + ")";
      continue;
    }
    if (auto it = kProbe.find(n); it != kProbe.end()) {
      Res p = get(it->second);
      if (p.status != 200) bad += " " + n + "(via gateway " + (p.status ? std::to_string(p.status) : std::string("no answer")) + ")";
    }
  }
  if (not_ready) *not_ready = bad;
  return bad.empty();
}

bool wait_ready(std::chrono::milliseconds timeout, const std::vector<std::string>& names, std::string* not_ready) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (ready(names, not_ready)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

std::string ensure_system_up(std::chrono::milliseconds timeout) {
  resume_all();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string problems;
  std::string bad;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CommandResult up = sales_up();
    std::cout << "[ system ] ./sales up (SALES_SKIP_BUILD=1): exit " << up.exit_code << " after " << up.took.count()
              << " ms" << std::endl;
    if (up.exit_code != 0) problems += "./sales up exited " + std::to_string(up.exit_code) + ":\n" + up.output + "\n";
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto t = std::chrono::steady_clock::now();
    bool ok = wait_ready(std::max(left / (4 - attempt), std::chrono::milliseconds(1000)), kAllServices, &bad);
    std::cout << "[ system ] " << (ok ? "ready" : "not ready:" + bad) << " after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count()
              << " ms" << std::endl;
    if (ok) return {};
  }
  return problems + "not ready:" + bad;
}

sales::amqp::ConnectionParams broker_params() {
  sales::amqp::ConnectionParams p;
  p.host = sales_test::require_env("SALES_AMQP_HOST");
  p.port = std::stoi(sales_test::require_env("SALES_AMQP_PORT"));
  p.user = sales_test::require_env("SALES_AMQP_USER");
  p.password = sales_test::require_env("SALES_AMQP_PASSWORD");
  return p;
}

long queue_depth(const std::string& queue) {
  try {
    sales::amqp::Connection c(broker_params());
    c.connect();
    return static_cast<long>(c.queue_message_count(queue));
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace saga

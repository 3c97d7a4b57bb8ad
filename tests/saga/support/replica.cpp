#include "support/replica.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "sales_test/child_process.hpp"
#include "sales_test/env.hpp"
#include "support/api.hpp"
#include "support/system.hpp"

namespace saga {

namespace fs = std::filesystem;

namespace {
// The NUL-separated environment of a running process with `overrides` set and PORT=0: the
// replica's kernel picks a free port as it binds (a port probed beforehand could be taken
// in between), and logs it at info, which LOG_LEVEL must let through.
std::vector<std::string> environment_of(pid_t pid, const Replica::Environment& overrides) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> env;
  for (std::size_t at = 0; at < all.size();) {
    auto end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    std::string entry = all.substr(at, end - at);
    const std::string name = entry.substr(0, entry.find('='));
    const bool replaced = name == "PORT" || name == "LOG_LEVEL" ||
                          std::any_of(overrides.begin(), overrides.end(),
                                      [&](const auto& o) { return o.first == name; });
    if (!entry.empty() && !replaced) env.push_back(std::move(entry));
    at = end + 1;
  }
  for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
  env.push_back("PORT=0");
  env.push_back("LOG_LEVEL=info");
  return env;
}

// Each replica's own log file (appended to by every test that starts the same one).
std::string replica_log(const std::string& service) {
  static std::atomic<int> started{0};
  return sales_test::require_env("SALES_STATE_DIR") + "/logs/" + service + "-replica-" +
         std::to_string(++started) + ".log";
}
}  // namespace

Replica::Replica(const std::string& service, const Environment& overrides)
    : service_(service), log_(replica_log(service)) {
  if (std::any_of(overrides.begin(), overrides.end(), [](const auto& o) { return o.first == "PORT"; })) {
    ADD_FAILURE() << "a replica's PORT is its kernel's choice; it cannot be overridden";
    return;
  }
  const pid_t first = service_pid(service);
  if (first <= 0) {
    ADD_FAILURE() << "no running " << service << " to replicate";
    return;
  }
  std::error_code ec;
  const auto size = fs::file_size(log_, ec);
  log_from_ = ec ? 0 : size;  // this replica's lines come after what earlier ones wrote
  const std::string proc = "/proc/" + std::to_string(first);
  const std::string binary = fs::read_symlink(proc + "/exe").string();
  const std::string cwd = fs::read_symlink(proc + "/cwd").string();  // where it reads a .env
  // Gone with the test process, however it ends: a replica left behind would keep
  // consuming the shared queues, and ./sales knows nothing of it.
  pid_ = sales_test::spawn_child(binary, environment_of(first, overrides), log_, cwd, SIGTERM);
  if (pid_ < 0) ADD_FAILURE() << "fork failed for a " << service << " replica";
}

Replica::~Replica() {
  if (pid_ <= 0 || exited_) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 150; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the " << service_ << " replica did not stop within 15 s of SIGTERM";
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string Replica::url() const {
  if (port_ == 0 && pid_ > 0) port_ = sales_test::listening_port(log_, log_from_);
  return "http://127.0.0.1:" + std::to_string(port_);
}

bool Replica::wait_ready(std::chrono::milliseconds timeout) const {
  if (pid_ <= 0) return false;
  for (auto until = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      exited_ = true;
      return false;
    }
    if (get_at(url(), "/health/ready").status == 200) return true;  // 0 while it is not listening yet
  }
  return false;
}

}  // namespace saga

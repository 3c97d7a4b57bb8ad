#include "support/replica.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "sales_test/env.hpp"
#include "support/api.hpp"
#include "support/system.hpp"

namespace saga {

namespace fs = std::filesystem;

namespace {
// A port nobody listens on now (the kernel's choice for port 0).
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// The NUL-separated environment of a running process, with PORT replaced.
std::vector<std::string> environment_of(pid_t pid, std::uint16_t port) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> env;
  for (std::size_t at = 0; at < all.size();) {
    auto end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    std::string entry = all.substr(at, end - at);
    if (!entry.empty() && entry.rfind("PORT=", 0) != 0) env.push_back(std::move(entry));
    at = end + 1;
  }
  env.push_back("PORT=" + std::to_string(port));
  return env;
}
}  // namespace

Replica::Replica(const std::string& service) : service_(service), port_(free_port()) {
  const pid_t first = service_pid(service);
  if (first <= 0 || port_ == 0) {
    ADD_FAILURE() << "no running " << service << " to replicate (or no free port)";
    return;
  }
  const std::string proc = "/proc/" + std::to_string(first);
  const std::string binary = fs::read_symlink(proc + "/exe").string();
  const std::string cwd = fs::read_symlink(proc + "/cwd").string();  // where it reads a .env
  const auto env = environment_of(first, port_);
  const std::string log = sales_test::require_env("SALES_STATE_DIR") + "/logs/" + service + "-replica.log";
  // Everything the child needs is made before fork: between fork and exec it only makes
  // system calls (another thread of this process may hold the allocator's lock).
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(binary.c_str()), nullptr};
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // Gone with the test process, however it ends: a replica left behind would keep
    // consuming the shared queues, and ./sales knows nothing of it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    ::close_range(3, ~0U, 0);  // none of the test's sockets
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execve(binary.c_str(), argv, envp.data());
    ::_exit(127);
  }
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

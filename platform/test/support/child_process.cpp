#include "sales_test/child_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace sales_test {

pid_t spawn_child(const std::string& binary, const std::vector<std::string>& env, const std::string& log,
                  const std::string& cwd, int death_signal) {
  // Everything the child needs is made before fork: between fork and exec it only makes
  // system calls (another thread of this process may hold the allocator's lock).
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(binary.c_str()), nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, death_signal);
  if (::getppid() != parent) ::_exit(126);  // the test died before prctl took hold
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) ::_exit(126);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(out, STDERR_FILENO);
  ::close_range(3, ~0U, 0);  // none of the test's sockets
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
  ::execve(binary.c_str(), argv, envp.data());
  ::_exit(127);
}

std::uint16_t listening_port(const std::string& log, std::uintmax_t from) {
  std::ifstream in(log, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  static constexpr std::string_view kListening = "\"msg\":\"listening on ";
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(kListening);
    if (at == std::string::npos) continue;
    const auto end = line.find('"', at + kListening.size());
    const auto colon = line.rfind(':', end);  // the last one: an IPv6 host has its own
    if (end == std::string::npos || colon == std::string::npos || colon < at) continue;
    return static_cast<std::uint16_t>(std::strtoul(line.c_str() + colon + 1, nullptr, 10));
  }
  return 0;
}

}  // namespace sales_test

#pragma once
// Connections held per client (ServerOptions::max_connections_per_client): one client must
// not take every place under the server's cap, idle keep-alive connections included, which
// the rate limiter (requests) does not see.
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sales::http::detail {

class ClientConnections {
 public:
  explicit ClientConnections(std::size_t per_client) : per_client_(per_client) {}

  // Takes a place for `client`; false when it holds per_client already.
  bool enter(const std::string& client) {
    std::lock_guard lock(mu_);
    auto [it, added] = held_.try_emplace(client, 0);
    if (it->second >= per_client_) return false;  // (added: per_client_ is at least 1)
    ++it->second;
    return true;
  }
  // Gives back a place enter() took.
  void leave(const std::string& client) {
    std::lock_guard lock(mu_);
    auto it = held_.find(client);
    if (it == held_.end()) return;
    if (--it->second == 0) held_.erase(it);  // a client gone leaves nothing behind
  }
  [[nodiscard]] std::size_t clients() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }

 private:
  const std::size_t per_client_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::size_t> held_;
};

}  // namespace sales::http::detail

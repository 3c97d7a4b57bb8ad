#pragma once
// Connections held per client (ServerOptions::max_connections_per_client): one client must
// not take every place under the server's cap, idle keep-alive connections included, which
// the rate limiter (requests) does not see.
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace sales::http::detail {

class ClientConnections;

// A place a client holds, given back when destroyed: at its session's end, with a session
// coroutine destroyed before it ran (a stop), or with an exception on the way to it.
class ClientPlace {
 public:
  ClientPlace() = default;
  ClientPlace(ClientPlace&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), client_(std::move(other.client_)) {}
  ClientPlace& operator=(ClientPlace&& other) noexcept {
    if (this != &other) {
      give_back();
      owner_ = std::exchange(other.owner_, nullptr);
      client_ = std::move(other.client_);
    }
    return *this;
  }
  ClientPlace(const ClientPlace&) = delete;
  ClientPlace& operator=(const ClientPlace&) = delete;
  ~ClientPlace() { give_back(); }

 private:
  friend class ClientConnections;
  ClientPlace(ClientConnections& owner, std::string client) : owner_(&owner), client_(std::move(client)) {}
  void give_back();

  ClientConnections* owner_ = nullptr;
  std::string client_;
};

class ClientConnections {
 public:
  explicit ClientConnections(std::size_t per_client) : per_client_(per_client) {}

  // A place for `client`; none when it holds per_client already.
  std::optional<ClientPlace> take(std::string client) {
    {
      std::lock_guard lock(mu_);
      auto [it, added] = held_.try_emplace(client, 0);
      if (it->second >= per_client_) return std::nullopt;  // (added: per_client_ is at least 1)
      ++it->second;
    }
    return ClientPlace(*this, std::move(client));
  }
  [[nodiscard]] std::size_t clients() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }

 private:
  friend class ClientPlace;
  void leave(const std::string& client) {
    std::lock_guard lock(mu_);
    auto it = held_.find(client);
    if (it == held_.end()) return;
    if (--it->second == 0) held_.erase(it);  // a client gone leaves nothing behind
  }

  const std::size_t per_client_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::size_t> held_;
};

inline void ClientPlace::give_back() {
  if (owner_) owner_->leave(client_);
  owner_ = nullptr;
}

}  // namespace sales::http::detail

#pragma once
// Whether a configured host name is this machine: what a server that treats local clients
// apart sees as local (PostgreSQL: no TLS needed; RabbitMQ: its guest user).
#include <string_view>

namespace sales::net {

// localhost, ::1 or any address of 127.0.0.0/8, as written in a setting (not resolved).
inline bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace sales::net

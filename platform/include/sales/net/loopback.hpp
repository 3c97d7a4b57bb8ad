#pragma once
// Host names as settings write them: whether one is this machine, which a server that treats
// local clients apart sees as local (PostgreSQL: no TLS needed; RabbitMQ: its guest user),
// and whether one is an address literal.
#include <arpa/inet.h>

#include <string>
#include <string_view>

namespace sales::net {

// localhost, ::1 or any address of 127.0.0.0/8, as written in a setting (not resolved).
inline bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// An IPv4 or IPv6 address literal, an IPv6 one with its zone too (fe80::1%eth0), as the
// server's listener takes it; a host name is not resolved.
inline bool is_ip_address(const std::string& text) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, text.c_str(), buf) == 1) return true;
  const auto zone = text.find('%');
  if (zone == 0 || zone + 1 == text.size()) return false;
  return ::inet_pton(AF_INET6, text.substr(0, zone).c_str(), buf) == 1;
}

}  // namespace sales::net

#pragma once
// IP addresses and address ranges (CIDR), for the settings that list peers:
// GATEWAY_TRUSTED_PROXIES, which may tell the gateway who the client is
// (domain/client_address.hpp), and GATEWAY_ADMIN_SOURCES, which may read its operator
// endpoints (domain/admin_sources.hpp). Parsed with inet_pton; plain values, no allocation
// per address.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gateway {

// An IPv4 or IPv6 address. IPv4 is held in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
// 10.0.0.1 and ::ffff:10.0.0.1 (an IPv4 peer as a dual-stack socket reports it) are one
// address, in one range. (The rate limiter keys an untrusted IPv4 peer by its text as the
// server wrote it: one listener writes every IPv4 peer one way.)
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};

  [[nodiscard]] bool is_v4() const;  // IPv4, or IPv4-mapped IPv6
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A bare address: "10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1". nullopt for anything else:
// names, ports, brackets, zone ids ("fe80::1%eth0"), white space, IPv4 with leading zeros.
std::optional<IpAddress> parse_ip(std::string_view text);

// The address as text, canonical (inet_ntop's form; an IPv4-mapped address as plain IPv4),
// in a buffer of its own: no allocation.
class IpText {
 public:
  IpText() = default;  // empty
  explicit IpText(const IpAddress& address);
  [[nodiscard]] std::string_view view() const { return {chars_.data(), size_}; }

 private:
  std::array<char, 46> chars_;  // INET6_ADDRSTRLEN; only the first size_ are written
  std::size_t size_ = 0;
};

// An address range: the addresses whose first `prefix` bits are the network's. The prefix
// counts over the 128-bit form, so an IPv4 /n is 96 + n.
struct IpRange {
  IpAddress network;
  int prefix = 128;

  [[nodiscard]] bool contains(const IpAddress& address) const;
};

// "10.0.0.0/8", "fd00::/8", "::ffff:10.0.0.0/104", or a bare address (a range of one).
// nullopt when the address is invalid, the prefix is not a whole number within 0..32
// (IPv4) or 0..128 (IPv6), or a bit past the prefix is set ("10.1.0.0/8": a typo for /16
// or /32 that would trust far more than meant).
std::optional<IpRange> parse_ip_range(std::string_view text);

// A list of ranges, as a setting names peers: the proxies in front of the gateway
// (GATEWAY_TRUSTED_PROXIES), the sources of operators' requests (GATEWAY_ADMIN_SOURCES).
// Empty: holds no address.
class IpRanges {
 public:
  IpRanges() = default;
  // A comma-separated list of ranges ("10.0.0.0/8, 127.0.0.1,::1"); white space around an
  // entry and empty entries are ignored. Throws std::invalid_argument naming the first bad
  // entry.
  static IpRanges parse(std::string_view list);

  [[nodiscard]] bool empty() const { return ranges_.empty(); }
  [[nodiscard]] bool contains(const IpAddress& address) const;
  [[nodiscard]] const std::vector<IpRange>& ranges() const { return ranges_; }

 private:
  std::vector<IpRange> ranges_;
};

}  // namespace gateway

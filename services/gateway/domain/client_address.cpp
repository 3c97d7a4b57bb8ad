#include "domain/client_address.hpp"

#include <algorithm>

#include "sales/http/header_lists.hpp"

namespace gateway {

namespace {
using sales::http::iequals;
using sales::http::trim_ows;
constexpr std::string_view kForwardedFor = "X-Forwarded-For";
constexpr auto npos = std::string_view::npos;

// ":4711" after an address: a colon and one to five digits.
bool is_port_suffix(std::string_view s) {
  return s.size() >= 2 && s.size() <= 6 && s.front() == ':' && s.find_first_not_of("0123456789", 1) == npos;
}

struct Walk {
  IpAddress client;
  bool malformed = false;
};

// An IPv6 address's /64 network, as its text (the header comment: the rate limiter's key);
// empty for IPv4 and IPv4-mapped addresses, and for the NAT64 well-known prefix
// (64:ff9b::/96, RFC 6052), whose addresses are IPv4 clients: each its own.
IpText network_of(const IpAddress& address) {
  static constexpr std::array<std::uint8_t, 12> kNat64{0x00, 0x64, 0xff, 0x9b};
  if (address.is_v4() || std::equal(kNat64.begin(), kNat64.end(), address.bytes.begin())) return {};
  IpAddress network = address;
  std::fill(network.bytes.begin() + 8, network.bytes.end(), std::uint8_t{0});
  return IpText(network);
}

// The rightmost-untrusted walk (header comment): every X-Forwarded-For field from the last,
// each one's entries from the right.
Walk walk(const IpAddress& peer, const sales::http::Headers& headers, const IpRanges& trusted) {
  Walk w{peer};
  const auto& fields = headers.fields();
  for (auto field = fields.rbegin(); field != fields.rend(); ++field) {
    if (!iequals(field->first, kForwardedFor)) continue;
    std::string_view rest = field->second;
    for (;;) {
      auto comma = rest.rfind(',');
      auto entry = trim_ows(comma == npos ? rest : rest.substr(comma + 1));
      if (!entry.empty()) {
        auto address = parse_forwarded_entry(entry);
        if (!address) {
          w.malformed = true;
          return w;
        }
        w.client = *address;
        if (!trusted.contains(*address)) return w;
      }
      if (comma == npos) break;
      rest = rest.substr(0, comma);
    }
  }
  return w;
}
}  // namespace

std::optional<IpAddress> parse_forwarded_entry(std::string_view entry) {
  if (entry.starts_with('[')) {  // "[2001:db8::1]" or "[2001:db8::1]:443"
    auto close = entry.find(']');
    if (close == npos) return std::nullopt;
    auto after = entry.substr(close + 1);
    if (!after.empty() && !is_port_suffix(after)) return std::nullopt;
    return parse_ip(entry.substr(1, close - 1));
  }
  auto colon = entry.find(':');
  if (colon != npos && entry.find(':', colon + 1) == npos) {  // one colon: "192.0.2.1:4711"
    if (!is_port_suffix(entry.substr(colon))) return std::nullopt;
    entry = entry.substr(0, colon);
  }
  return parse_ip(entry);
}

ClientAddress::ClientAddress(std::string_view peer, const std::optional<IpAddress>& address) : peer_(peer) {
  if (address) network_ = network_of(*address);
}

ClientAddress::ClientAddress(std::string_view peer, const IpAddress& client, bool malformed_entry)
    : peer_(peer), client_(client), network_(network_of(client)), peer_trusted_(true), malformed_entry_(malformed_entry) {}

std::optional<std::string> connection_client(std::string_view peer, const IpRanges& trusted) {
  const auto address = parse_ip(peer);
  if (address && trusted.contains(*address)) return std::nullopt;
  return std::string(ClientAddress(peer, address).key());
}

ClientAddress client_address(std::string_view peer, const sales::http::Headers& headers,
                             const IpRanges& trusted) {
  // Most peers are IPv4 ("203.0.113.7"): without trusted proxies nothing is parsed for them.
  if (trusted.empty()) return ClientAddress(peer, peer.find(':') == npos ? std::nullopt : parse_ip(peer));
  auto peer_address = parse_ip(peer);
  if (!peer_address || !trusted.contains(*peer_address)) return ClientAddress(peer, peer_address);
  auto w = walk(*peer_address, headers, trusted);
  return {peer, w.client, w.malformed};
}

std::string forwarded_for(const sales::http::Headers& headers, std::string_view peer) {
  std::string out;
  for (const auto& [name, value] : headers.fields()) {
    if (!iequals(name, kForwardedFor)) continue;
    if (auto chain = trim_ows(value); !chain.empty()) out.append(chain).append(", ");
  }
  out.append(peer);
  return out;
}

}  // namespace gateway

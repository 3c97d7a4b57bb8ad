#pragma once
// Who the client is, for the rate limiter's key and the X-Forwarded-For the upstream gets.
//
// Behind a load balancer or an ingress every client reaches the gateway through the proxy,
// so the TCP peer is the proxy. When the peer is one of GATEWAY_TRUSTED_PROXIES, the client
// is taken from X-Forwarded-For with the rightmost-untrusted rule (nginx's
// real_ip_recursive, Envoy's trusted hops): every field of the header, in order, read as
// one list from the right; trusted addresses are proxies and skipped; the first address
// that is not trusted is the client. Each proxy appends the address it was reached from, so
// entries left of that one are whatever the client sent, and never chosen.
//
// The edges, each chosen so that a client cannot pick its identity:
//   - peer not trusted (or nobody is): the header is ignored; the peer is the client.
//   - no header, or only empty entries: the peer.
//   - every entry trusted: the leftmost (the farthest proxy; a client that is not trusted
//     cannot produce such a chain, because its own address is appended to it).
//   - an entry that is not an address ("unknown", a name, garbage) before an untrusted one:
//     the walk stops there, and the client is the nearest trusted hop to its right (the
//     entry after it, or the peer). A trusted proxy wrote that entry, so nothing left of it
//     can be believed; the requests keep that proxy's bucket, as without this setting.
// An entry may carry a port, as some proxies write it: "192.0.2.1:4711", "[2001:db8::1]:443",
// "[2001:db8::1]". Empty entries (",,") are skipped (RFC 9110 §5.6.1).
//
// An IPv6 client is known to the rate limiter by its /64 network. One host may use any
// address of its /64 (SLAAC privacy addresses change daily; a router is given a /64 or
// more), so a bucket per address would give one client 2^64 of them. IPv4 and IPv4-mapped
// addresses stay whole, and so do NAT64 ones (64:ff9b::/96: each an IPv4 client).
#include <optional>
#include <string>
#include <string_view>

#include "domain/ip_range.hpp"
#include "sales/http/message.hpp"

namespace gateway {

class ClientAddress {
 public:
  // The peer is the client: what the server reported, untouched; `address` is the peer
  // parsed, when it was (an IPv6 peer, whose key is its /64).
  explicit ClientAddress(std::string_view peer, const std::optional<IpAddress>& address = std::nullopt);
  // The peer is a trusted proxy, and `client` the address the walk found.
  ClientAddress(std::string_view peer, const IpAddress& client, bool malformed_entry);

  // The rate limiter's key: an IPv6 client's /64 network, else the peer as the server wrote
  // it or the client's canonical text.
  [[nodiscard]] std::string_view key() const {
    if (!network_.view().empty()) return network_.view();
    return peer_trusted_ ? client_.view() : peer_;
  }
  // The peer is a trusted proxy: its X-Forwarded-For was read and is to be appended to.
  [[nodiscard]] bool peer_trusted() const { return peer_trusted_; }
  // The walk stopped at an entry that is not an address.
  [[nodiscard]] bool malformed_entry() const { return malformed_entry_; }

 private:
  std::string_view peer_;
  IpText client_;   // written only when the peer is trusted
  IpText network_;  // written only for an IPv6 client: its /64
  bool peer_trusted_ = false;
  bool malformed_entry_ = false;
};

// The client of a request from `peer` (the TCP peer's address as text). With no trusted
// proxies this only wraps the peer: no parsing, no allocation.
ClientAddress client_address(std::string_view peer, const sales::http::Headers& headers,
                             const IpRanges& trusted);

// Whom a connection from `peer` counts against (GATEWAY_MAX_CONNECTIONS_PER_CLIENT): the
// rate limiter's key of the peer (an IPv6 peer's /64), or nobody when the peer is a trusted
// proxy, whose connections carry many clients.
std::optional<std::string> connection_client(std::string_view peer, const IpRanges& trusted);

// One X-Forwarded-For entry: an address, with an optional port or IPv6 brackets.
std::optional<IpAddress> parse_forwarded_entry(std::string_view entry);

// X-Forwarded-For for the upstream when the peer is trusted: the incoming chain (every
// field, in order, joined by ", ") with the peer appended; just the peer without one.
std::string forwarded_for(const sales::http::Headers& headers, std::string_view peer);

}  // namespace gateway

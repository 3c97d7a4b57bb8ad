// Who the client is behind trusted proxies: the rightmost-untrusted walk over
// X-Forwarded-For, its edges, and the chain the upstream gets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain/client_address.hpp"

namespace gateway {
namespace {

using sales::http::Headers;

using Fields = std::vector<const char*>;

Headers xff(const Fields& fields) {
  Headers h;
  h.add("Host", "shop.example");
  for (const char* f : fields) h.add("X-Forwarded-For", f);
  h.add("Accept", "application/json");
  return h;
}

const IpRanges kProxies = IpRanges::parse("10.0.0.0/8, 127.0.0.1, ::1, fd00::/8");

// The rate limiter's key for a request from `peer` with these X-Forwarded-For fields.
std::string client(std::string_view peer, const Fields& fields,
                   const IpRanges& trusted = kProxies) {
  return std::string(client_address(peer, xff(fields), trusted).key());
}

TEST(ClientAddress, WithNoTrustedProxiesThePeerIsTheClientAsTheServerWroteIt) {
  auto c = client_address("::ffff:10.0.0.1", xff({"203.0.113.7"}), IpRanges());
  EXPECT_FALSE(c.peer_trusted());
  EXPECT_FALSE(c.malformed_entry());
  EXPECT_EQ(c.key(), "::ffff:10.0.0.1") << "untouched: today's key";
}

TEST(ClientAddress, AnUntrustedPeersHeaderIsIgnored) {
  for (const char* peer : {"203.0.113.50", "2001:db8:0:50::", "11.0.0.1"}) {
    auto c = client_address(peer, xff({"10.0.0.1", "198.51.100.1"}), kProxies);
    EXPECT_FALSE(c.peer_trusted()) << peer;
    EXPECT_EQ(c.key(), peer) << "a client cannot name itself";
  }
  EXPECT_EQ(client("not an address", {"198.51.100.1"}), "not an address") << "an unparsable peer is not trusted";
  EXPECT_EQ(client("fe80::1%eth0", {"198.51.100.1"}), "fe80::1%eth0");
}

// One host may use any address of its /64: the rate limiter knows an IPv6 client by it,
// whether the client is the peer or was found behind a trusted proxy.
TEST(ClientAddress, AnIpv6ClientIsKnownByItsSlash64) {
  for (const Fields& proxied : {Fields{}, Fields{"2001:db8:1:2:aaaa:bbbb:cccc:dddd"}}) {
    const char* peer = proxied.empty() ? "2001:db8:1:2:aaaa:bbbb:cccc:dddd" : "10.0.0.5";
    EXPECT_EQ(client(peer, proxied), "2001:db8:1:2::") << peer;
    EXPECT_EQ(client(peer, proxied, IpRanges()), proxied.empty() ? "2001:db8:1:2::" : "10.0.0.5") << peer;
  }
  EXPECT_EQ(client("2001:db8:1:2::1", {}, IpRanges()), client("2001:db8:1:2:ffff::9", {}, IpRanges()))
      << "two addresses of one /64: one bucket";
  EXPECT_NE(client("2001:db8:1:2::1", {}, IpRanges()), client("2001:db8:1:3::1", {}, IpRanges()))
      << "the next /64: another client";
  EXPECT_EQ(client("::ffff:203.0.113.7", {}, IpRanges()), "::ffff:203.0.113.7") << "IPv4-mapped: the whole address";
  EXPECT_EQ(client("203.0.113.7", {}, IpRanges()), "203.0.113.7");
  EXPECT_EQ(client("64:ff9b::cb00:7107", {}, IpRanges()), "64:ff9b::cb00:7107") << "NAT64: an IPv4 client, whole";
}

// GATEWAY_MAX_CONNECTIONS_PER_CLIENT counts a connection against its peer, keyed as the
// rate limiter keys it; a trusted proxy's connections carry many clients and are not counted.
TEST(ClientAddress, AConnectionCountsAgainstItsPeerUnlessThePeerIsATrustedProxy) {
  EXPECT_EQ(connection_client("203.0.113.7", kProxies), "203.0.113.7");
  EXPECT_EQ(connection_client("2001:db8:1:2::1", kProxies), "2001:db8:1:2::") << "an IPv6 peer: its /64";
  EXPECT_EQ(connection_client("2001:db8:1:2::1", kProxies), connection_client("2001:db8:1:2:ffff::9", kProxies));
  EXPECT_EQ(connection_client("::ffff:203.0.113.7", kProxies), "::ffff:203.0.113.7");
  EXPECT_EQ(connection_client("10.1.2.3", kProxies), std::nullopt) << "a trusted proxy";
  EXPECT_EQ(connection_client("::1", kProxies), std::nullopt);
  EXPECT_EQ(connection_client("10.1.2.3", IpRanges()), "10.1.2.3") << "nobody trusted: every peer counted";
}

TEST(ClientAddress, BehindOneTrustedProxyTheLastEntryIsTheClient) {
  auto c = client_address("10.0.0.5", xff({"203.0.113.7"}), kProxies);
  EXPECT_TRUE(c.peer_trusted());
  EXPECT_FALSE(c.malformed_entry());
  EXPECT_EQ(c.key(), "203.0.113.7");
  EXPECT_EQ(client("::1", {"2001:db8:0:7::1"}), "2001:db8:0:7::");
  EXPECT_EQ(client("::ffff:127.0.0.1", {"203.0.113.7"}), "203.0.113.7") << "a mapped peer is trusted like its IPv4";
}

TEST(ClientAddress, SpoofedLeftmostEntriesAreNeverChosen) {
  // The client sent "X-Forwarded-For: 1.1.1.1, 10.0.0.9"; the proxy appended its real address.
  EXPECT_EQ(client("10.0.0.5", {"1.1.1.1, 10.0.0.9, 203.0.113.7"}), "203.0.113.7");
  EXPECT_EQ(client("10.0.0.5", {"127.0.0.1, 203.0.113.7"}), "203.0.113.7");
  EXPECT_EQ(client("10.0.0.5", {"garbage, 203.0.113.7"}), "203.0.113.7");
}

TEST(ClientAddress, SeveralTrustedHopsAreSkipped) {
  // client → CDN edge (10.1.1.1) → ingress (10.2.2.2) → gateway.
  EXPECT_EQ(client("10.2.2.2", {"203.0.113.7, 10.1.1.1"}), "203.0.113.7");
  EXPECT_EQ(client("127.0.0.1", {"198.51.100.1, 203.0.113.7, 10.1.1.1, fd00::2, ::1"}), "203.0.113.7");
}

TEST(ClientAddress, EveryEntryTrustedGivesTheLeftmost) {
  EXPECT_EQ(client("10.0.0.5", {"10.9.9.9, 10.1.1.1"}), "10.9.9.9") << "the farthest proxy";
  EXPECT_EQ(client("10.0.0.5", {"::1"}), "::") << "its /64";
}

TEST(ClientAddress, NoHeaderOrOnlyEmptyEntriesGiveThePeer) {
  for (const auto& fields : std::vector<Fields>{{}, {""}, {" , ,"}, {"", ","}}) {
    auto c = client_address("10.0.0.5", xff(fields), kProxies);
    EXPECT_TRUE(c.peer_trusted());
    EXPECT_FALSE(c.malformed_entry());
    EXPECT_EQ(c.key(), "10.0.0.5");
  }
  EXPECT_EQ(client("::ffff:10.0.0.5", {}), "10.0.0.5") << "the canonical text";
  EXPECT_EQ(client("10.0.0.5", {",203.0.113.7,, "}), "203.0.113.7") << "empty entries are skipped";
}

TEST(ClientAddress, AGarbageEntryStopsTheWalkAtTheNearestTrustedHop) {
  for (const char* garbage : {"unknown", "client.example", "_hidden", "300.1.1.1", "1.2.3", "10.0.0.1/8", "[::1",
                              "[::1]x", "[::1]:", "1.2.3.4:", "1.2.3.4:http", "1.2.3.4:123456", "\"1.2.3.4\"",
                              "1.2.3.4 5.6.7.8", "for=1.2.3.4", "::1%lo", "\x01\x02"}) {
    SCOPED_TRACE(garbage);
    auto right = client_address("10.0.0.5", xff({garbage}), kProxies);
    EXPECT_TRUE(right.malformed_entry());
    EXPECT_EQ(right.key(), "10.0.0.5") << "the rightmost entry: the peer";
    std::string chain = std::string("198.51.100.1, ") + garbage + ", 10.1.1.1";
    auto inner = client_address("10.0.0.5", xff({chain.c_str()}), kProxies);
    EXPECT_TRUE(inner.malformed_entry());
    EXPECT_EQ(inner.key(), "10.1.1.1") << "the trusted entry right of it";
  }
  // Garbage left of the client is never looked at.
  auto c = client_address("10.0.0.5", xff({"unknown, 203.0.113.7"}), kProxies);
  EXPECT_FALSE(c.malformed_entry());
  EXPECT_EQ(c.key(), "203.0.113.7");
}

TEST(ClientAddress, PortsAndBracketsAreAccepted) {
  EXPECT_EQ(client("10.0.0.5", {"203.0.113.7:4711"}), "203.0.113.7");
  EXPECT_EQ(client("10.0.0.5", {"[2001:db8:0:7::1]:443"}), "2001:db8:0:7::");
  EXPECT_EQ(client("10.0.0.5", {"[2001:db8:0:7::1]"}), "2001:db8:0:7::");
  EXPECT_EQ(client("10.0.0.5", {"203.0.113.7, 10.1.1.1:80"}), "203.0.113.7");
}

TEST(ClientAddress, TheClientsTextIsCanonical) {
  EXPECT_EQ(client("10.0.0.5", {"2001:DB8:0:7:0:0:0:1"}), "2001:db8:0:7::");
  EXPECT_EQ(client("10.0.0.5", {"::ffff:203.0.113.7"}), "203.0.113.7") << "one bucket for both spellings";
}

TEST(ClientAddress, SeveralHeaderLinesAreOneListInOrder) {
  EXPECT_EQ(client("10.0.0.5", {"198.51.100.1", "203.0.113.7"}), "203.0.113.7") << "the last line is the nearest";
  EXPECT_EQ(client("10.0.0.5", {"198.51.100.1, 203.0.113.7", "10.1.1.1", " 10.2.2.2 "}), "203.0.113.7");
  EXPECT_EQ(client("10.0.0.5", {"203.0.113.7", ""}), "203.0.113.7");
  EXPECT_EQ(client("10.0.0.5", {"203.0.113.7", "garbage"}), "10.0.0.5");
  Headers h;
  h.add("x-forwarded-for", "198.51.100.1");
  h.add("X-FORWARDED-FOR", "10.1.1.1");
  EXPECT_EQ(client_address("10.0.0.5", h, kProxies).key(), "198.51.100.1") << "names ignore case";
}

TEST(ClientAddress, AHugeChainOfTrustedHopsIsWalkedWithoutTrouble) {
  std::string chain = "203.0.113.7";
  for (int i = 0; i < 2000; ++i) chain += ", 10.0." + std::to_string(i % 250) + ".1";
  EXPECT_EQ(client("10.0.0.5", {chain.c_str()}), "203.0.113.7");
}

TEST(ForwardedFor, TheIncomingChainWithThePeerAppended) {
  EXPECT_EQ(forwarded_for(xff({"203.0.113.7"}), "10.0.0.5"), "203.0.113.7, 10.0.0.5");
  EXPECT_EQ(forwarded_for(xff({"198.51.100.1, 203.0.113.7", " 10.1.1.1 "}), "10.0.0.5"),
            "198.51.100.1, 203.0.113.7, 10.1.1.1, 10.0.0.5");
  EXPECT_EQ(forwarded_for(xff({}), "10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(forwarded_for(xff({"", "  "}), "::1"), "::1");
  EXPECT_EQ(forwarded_for(xff({"unknown"}), "10.0.0.5"), "unknown, 10.0.0.5") << "kept as received";
}

}  // namespace
}  // namespace gateway

// Addresses and ranges of GATEWAY_TRUSTED_PROXIES and GATEWAY_ADMIN_SOURCES: IPv4, IPv6,
// IPv4-mapped IPv6, and everything that is not an address refused.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "domain/ip_range.hpp"

namespace gateway {
namespace {

IpAddress ip(std::string_view text) {
  auto a = parse_ip(text);
  if (!a) throw std::invalid_argument("test address " + std::string(text));
  return *a;
}

bool in(std::string_view range, std::string_view address) {
  auto r = parse_ip_range(range);
  if (!r) throw std::invalid_argument("test range " + std::string(range));
  return r->contains(ip(address));
}

std::string text(std::string_view address) { return std::string(IpText(ip(address)).view()); }

TEST(IpAddress, IPv4AndIPv6Parse) {
  ASSERT_TRUE(parse_ip("10.0.0.1"));
  EXPECT_TRUE(ip("10.0.0.1").is_v4());
  EXPECT_TRUE(ip("255.255.255.255").is_v4());
  EXPECT_FALSE(ip("::1").is_v4());
  EXPECT_FALSE(ip("2001:db8::1").is_v4());
  EXPECT_FALSE(ip("::").is_v4());
  EXPECT_NE(ip("10.0.0.1"), ip("10.0.0.2"));
  EXPECT_EQ(ip("2001:DB8:0:0::1"), ip("2001:db8::1"));
}

TEST(IpAddress, AnIPv4MappedAddressIsThePlainIPv4One) {
  EXPECT_EQ(ip("::ffff:10.0.0.1"), ip("10.0.0.1"));
  EXPECT_EQ(ip("::ffff:a00:1"), ip("10.0.0.1"));
  EXPECT_TRUE(ip("::ffff:10.0.0.1").is_v4());
  EXPECT_NE(ip("::10.0.0.1"), ip("10.0.0.1")) << "IPv4-compatible (deprecated) is not IPv4-mapped";
}

TEST(IpAddress, AnythingButABareAddressIsRefused) {
  for (std::string_view bad :
       {"", " ", "localhost", "unknown", "10.0.0", "10.0.0.1.2", "10.0.0.256", "010.0.0.1", "10.0.0.1 ", " 10.0.0.1",
        "10.0.0.1:80", "[::1]", "::1%eth0", "fe80::1%1", "1::2::3", "12345::", "::g", "10.0.0.1/8", "+1.2.3.4",
        "0x0a.0.0.1", "2001:db8:0:0:0:0:0:0:1", "1111:2222:3333:4444:5555:6666:7777:8888:9999"}) {
    EXPECT_FALSE(parse_ip(bad).has_value()) << "'" << bad << "'";
  }
  EXPECT_FALSE(parse_ip(std::string_view("10.0.0.1\0junk", 13)).has_value()) << "an embedded NUL";
  EXPECT_FALSE(parse_ip(std::string(1000, '1')).has_value());
}

TEST(IpAddress, TextIsCanonical) {
  EXPECT_EQ(text("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(text("::ffff:10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(text("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(text("::1"), "::1");
  EXPECT_EQ(text("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(IpText().view(), "");
}

TEST(IpRange, IPv4Ranges) {
  EXPECT_TRUE(in("10.0.0.0/8", "10.0.0.1"));
  EXPECT_TRUE(in("10.0.0.0/8", "10.255.255.255"));
  EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.0"));
  EXPECT_FALSE(in("10.0.0.0/8", "9.255.255.255"));
  EXPECT_TRUE(in("192.168.4.0/22", "192.168.7.200"));
  EXPECT_FALSE(in("192.168.4.0/22", "192.168.8.0"));
  EXPECT_FALSE(in("192.168.4.0/22", "192.168.3.255"));
  EXPECT_TRUE(in("172.16.0.0/12", "172.31.1.1"));
  EXPECT_FALSE(in("172.16.0.0/12", "172.32.0.0"));
  EXPECT_TRUE(in("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(in("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(in("127.0.0.1/32", "127.0.0.1"));
  EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
  EXPECT_FALSE(in("0.0.0.0/0", "2001:db8::1")) << "all of IPv4 is not all of IPv6";
}

TEST(IpRange, IPv6Ranges) {
  EXPECT_TRUE(in("::1", "::1"));
  EXPECT_FALSE(in("::1", "::2"));
  EXPECT_TRUE(in("fd00::/8", "fd12:3456::1"));
  EXPECT_FALSE(in("fd00::/8", "fe00::1"));
  EXPECT_TRUE(in("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(in("2001:db8::/127", "2001:db8::1"));
  EXPECT_FALSE(in("2001:db8::/127", "2001:db8::2"));
  EXPECT_TRUE(in("::/0", "2001:db8::1"));
  EXPECT_FALSE(in("fd00::/8", "10.0.0.1"));
}

TEST(IpRange, IPv4AndItsMappedFormMatchEachOthersRanges) {
  EXPECT_TRUE(in("10.0.0.0/8", "::ffff:10.1.2.3")) << "an IPv4 peer on a dual-stack socket";
  EXPECT_TRUE(in("::ffff:10.0.0.0/104", "10.1.2.3"));
  EXPECT_FALSE(in("::ffff:10.0.0.0/104", "11.1.2.3"));
  EXPECT_TRUE(in("::ffff:127.0.0.1", "127.0.0.1"));
}

TEST(IpRange, InvalidRangesAreRefused) {
  for (std::string_view bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8",
                               "10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/0x8", "10.0.0.0/0008", "::/129", "::1/1000",
                               "10.0.0/8", "host.example/24", "10.0.0.0/8a", "10.1.0.0/8", "10.0.0.1/31",
                               "2001:db8::1/64", "::ffff:10.0.0.0/95", "*"}) {
    EXPECT_FALSE(parse_ip_range(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(IpRange, PrefixesCountOverTheMappedForm) {
  EXPECT_EQ(parse_ip_range("10.0.0.0/8")->prefix, 104);
  EXPECT_EQ(parse_ip_range("10.0.0.1")->prefix, 128);
  EXPECT_EQ(parse_ip_range("fd00::/8")->prefix, 8);
  EXPECT_EQ(parse_ip_range("0.0.0.0/0")->prefix, 96);
}

TEST(IpRanges, AnEmptyListHoldsNoAddress) {
  for (std::string_view list : {"", " ", ",", " , ,"}) {
    auto t = IpRanges::parse(list);
    EXPECT_TRUE(t.empty()) << "'" << list << "'";
    EXPECT_FALSE(t.contains(ip("127.0.0.1")));
  }
  EXPECT_TRUE(IpRanges().empty());
}

TEST(IpRanges, AListOfRangesAndAddresses) {
  auto t = IpRanges::parse("10.0.0.0/8,127.0.0.1, ::1 ,\tfd00::/8,");
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(t.ranges().size(), 4u);
  for (auto a : {"10.9.8.7", "127.0.0.1", "::1", "fd00::42", "::ffff:10.0.0.1"}) EXPECT_TRUE(t.contains(ip(a))) << a;
  for (auto a : {"11.0.0.1", "127.0.0.2", "::2", "fe00::1", "203.0.113.7"}) EXPECT_FALSE(t.contains(ip(a))) << a;
}

TEST(IpRanges, AnInvalidEntryIsRefusedByName) {
  for (std::string_view list :
       {"10.0.0.0/8,nginx", "10.0.0.0/33", "127.0.0.1;::1", "10.0.0.0/8 127.0.0.1", "10.1.0.0/8"}) {
    try {
      (void)IpRanges::parse(list);
      ADD_FAILURE() << "accepted '" << list << "'";
    } catch (const std::invalid_argument& e) {
      std::string message = e.what();
      EXPECT_NE(message.find('\''), std::string::npos) << message;
    }
  }
  try {
    (void)IpRanges::parse("10.0.0.0/8, nginx ,::1");
    ADD_FAILURE() << "accepted a name";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("'nginx' ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace gateway

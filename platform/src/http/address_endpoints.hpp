#pragma once
// An AddressBook's addresses as what Asio connects to; both clients' translation units
// include Asio already, the book's header does not.
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <vector>

#include "sales/http/address_book.hpp"

namespace sales::http::detail {

inline std::vector<boost::asio::ip::tcp::endpoint> endpoints_of(const Addresses& addresses, std::uint16_t port) {
  std::vector<boost::asio::ip::tcp::endpoint> out;
  out.reserve(addresses.size());
  for (const auto& text : addresses) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(text, ec);
    if (!ec) out.emplace_back(address, port);  // a resolver's answer is numeric; a fake's may not be
  }
  return out;
}

}  // namespace sales::http::detail

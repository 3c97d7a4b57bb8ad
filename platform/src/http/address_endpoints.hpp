#pragma once
// An AddressBook's addresses as what Asio connects to; both clients' translation units
// include Asio already, the book's header does not.
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sales/http/address_book.hpp"

namespace sales::http::detail {

// Connects try the endpoints in order, so the first one would take every connection: with
// several (Compose's DNS answers one address per replica) each new connection starts at
// the next one, `turn` counting the connections made, and the rest stay as fallbacks.
inline std::vector<boost::asio::ip::tcp::endpoint> endpoints_of(const Addresses& addresses, std::uint16_t port,
                                                                std::size_t turn = 0) {
  std::vector<boost::asio::ip::tcp::endpoint> out;
  out.reserve(addresses.size());
  for (const auto& text : addresses) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(text, ec);
    if (!ec) out.emplace_back(address, port);  // a resolver's answer is numeric; a fake's may not be
  }
  if (!out.empty()) std::rotate(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(turn % out.size()), out.end());
  return out;
}

}  // namespace sales::http::detail

#include "request_identity.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <random>

#include "sales/http/server.hpp"

namespace sales::http {

std::string make_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  // Two digits per byte from one table: a generated id is on every request's way.
  static constexpr auto kByteDigits = [] {
    std::array<std::array<char, 2>, 256> digits{};
    for (std::size_t b = 0; b < 256; ++b) digits[b] = {kHex[b & 0xf], kHex[b >> 4]};
    return digits;
  }();
  char id[32];
  std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i) {
    std::memcpy(id + 2 * i, kByteDigits[(a >> (i * 8)) & 0xff].data(), 2);
    std::memcpy(id + 16 + 2 * i, kByteDigits[(b >> (i * 8)) & 0xff].data(), 2);
  }
  return std::string(id, sizeof id);
}

void finalize_response(const Request& req, Response& res) {
  // A proxied answer usually carries our id already (the service echoes it): keep it as it is.
  const std::string_view id = req.request_id();
  int ids = 0;
  bool same = true;
  for (const auto& [name, value] : res.headers.fields()) {
    if (iequals(name, "X-Request-Id")) {
      ++ids;
      same = same && value == id;
    }
  }
  // complete_request made it printable ASCII; checked again (128 bytes at most) since any
  // handler may have changed the request's fields meanwhile.
  if (ids == 1 && same) return;
  if (detail::acceptable_request_id(id)) {
    res.headers.set_unchecked_copy("X-Request-Id", id);
  } else {
    res.headers.set("X-Request-Id", make_request_id());
  }
}

namespace detail {

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

void complete_request(Request& r, bool keep_alive, const std::string& remote_ip) {
  r.keep_alive = keep_alive;
  r.remote_ip = remote_ip;
  auto id = r.headers.get("X-Request-Id");
  if (!id) {
    r.headers.add_unchecked("X-Request-Id", make_request_id());  // hex digits: nothing to check
  } else if (!acceptable_request_id(*id)) {
    r.headers.set("X-Request-Id", make_request_id());
  }
}

}  // namespace detail
}  // namespace sales::http

#include "sales/http/wire.hpp"

#include <charconv>
#include <cstring>

#include "sales/problem/problem.hpp"

namespace sales::http::wire {

namespace {
void append_number(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

void append_fields(std::string& out, const Headers& headers) {
  for (const auto& [k, v] : headers.fields()) {
    if (hop_by_hop(k)) continue;  // a field unsafe to send was never stored (Headers::add)
    // One growth and two copies per field instead of four appends.
    std::size_t at = out.size();
    out.resize(at + k.size() + v.size() + 4);
    char* p = out.data() + at;
    std::memcpy(p, k.data(), k.size());
    p += k.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, v.data(), v.size());
    p += v.size();
    *p++ = '\r';
    *p = '\n';
  }
}
}  // namespace

bool hop_by_hop(std::string_view name) {
  // Sorted by length so most names are rejected by one comparison.
  switch (name.size()) {
    case 2: return iequals(name, "te");
    case 4: return iequals(name, "host");
    case 6: return iequals(name, "expect");
    case 7: return iequals(name, "upgrade") || iequals(name, "trailer");
    case 10: return iequals(name, "connection") || iequals(name, "keep-alive");
    case 14: return iequals(name, "content-length");
    case 16: return iequals(name, "proxy-connection");
    case 17: return iequals(name, "transfer-encoding");
    case 18: return iequals(name, "proxy-authenticate");
    case 19: return iequals(name, "proxy-authorization");
    default: return false;
  }
}

bool bodiless_status(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

void response_head(std::string& out, int status, const Headers& headers, std::size_t body_size, bool keep_alive) {
  out.clear();
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(status));
  out += ' ';
  out += sales::reason_phrase(status);
  out += "\r\n";
  append_fields(out, headers);
  if (!keep_alive) out += "Connection: close\r\n";
  if (!bodiless_status(status)) {
    out += "Content-Length: ";
    append_number(out, body_size);
    out += "\r\n";
  }
  out += "\r\n";
}

void request_head(std::string& out, std::string_view method, std::string_view target, std::string_view host,
                  const Headers& headers, std::size_t body_size) {
  out.clear();
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
  out += "\r\n";
  append_fields(out, headers);
  // RFC 9110 §8.6: a request without content needs no Content-Length, except for the
  // methods whose requests normally carry one.
  if (body_size > 0 || method == "POST" || method == "PUT" || method == "PATCH") {
    out += "Content-Length: ";
    append_number(out, body_size);
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace sales::http::wire

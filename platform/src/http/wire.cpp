#include "sales/http/wire.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sales/problem/problem.hpp"

namespace sales::http::wire {

namespace {
// A number's digits, written before the head is sized.
class Digits {
 public:
  explicit Digits(std::size_t n)
      : size_(static_cast<std::size_t>(std::to_chars(buf_, buf_ + sizeof buf_, n).ptr - buf_)) {}
  [[nodiscard]] std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[24];
  std::size_t size_;
};

// The fields that go out (not hop-by-hop; a field unsafe to send was never stored, see
// Headers::add), measured once and then copied.
class Fields {
 public:
  explicit Fields(const Headers& headers) : fields_(headers.fields()) {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const auto& [k, v] = fields_[i];
      if (hop_by_hop(k)) {
        if (i < 64) dropped_ |= std::uint64_t{1} << i;
        continue;
      }
      bytes_ += k.size() + v.size() + 4;  // "k: v\r\n"
    }
  }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  template <class Out>
  void write(Out& out) const {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const auto& [k, v] = fields_[i];
      if (i < 64 ? (dropped_ >> i) & 1 : hop_by_hop(k)) continue;
      out.put(k).put(": ").put(v).put("\r\n");
    }
  }

 private:
  const std::vector<std::pair<std::string, std::string>>& fields_;
  std::uint64_t dropped_ = 0;  // which of the first 64 fields are hop-by-hop
  std::size_t bytes_ = 0;
};

// A head of a size added up beforehand: `out` grows once and every piece is copied to its
// place. Appending piece by piece checked capacity and grew the string for each, which
// showed in the gateway's profile (two heads per proxied request).
class HeadWriter {
 public:
  HeadWriter(std::string& out, std::size_t size) : out_(out) {
    out.resize(size);
    at_ = out.data();
  }
  HeadWriter(const HeadWriter&) = delete;
  HeadWriter& operator=(const HeadWriter&) = delete;
  ~HeadWriter() { out_.resize(static_cast<std::size_t>(at_ - out_.data())); }  // the size was exact: no-op

  HeadWriter& put(std::string_view s) {
    std::memcpy(at_, s.data(), s.size());
    at_ += s.size();
    return *this;
  }

 private:
  std::string& out_;
  char* at_;
};

constexpr std::string_view kClose = "Connection: close\r\n";
constexpr std::string_view kContentLength = "Content-Length: ";
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

bool valid_host(std::string_view value) {
  // Every request's Host passes here: one table look-up per character.
  static constexpr auto kHostChar = [] {
    std::array<bool, 256> table{};
    for (char c : std::string_view("-._~%!$&'()*+,;=:[]")) table[static_cast<unsigned char>(c)] = true;
    for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = table[static_cast<std::size_t>(c - 'a' + 'A')] = true;
    return table;
  }();
  return std::all_of(value.begin(), value.end(), [](char c) { return kHostChar[static_cast<unsigned char>(c)]; });
}

bool assign_origin_form(std::string& out, std::string_view target) {
  if (target.empty() || target.front() == '/') {  // origin form: nearly every request
    out.assign(target);
    return true;
  }
  const std::size_t scheme = iequals(target.substr(0, 7), "http://") ? 7 : iequals(target.substr(0, 8), "https://") ? 8 : 0;
  if (scheme == 0) {
    out.assign(target);  // "*" (OPTIONS) or anything else: no route knows it
    return true;
  }
  const std::size_t path = target.find_first_of("/?", scheme);  // the authority ends there
  const std::string_view authority = target.substr(scheme, path == std::string_view::npos ? path : path - scheme);
  if (authority.empty() || !valid_host(authority) || target.find('#') != std::string_view::npos) return false;
  if (path == std::string_view::npos || target[path] == '?') out.assign("/");
  else out.clear();
  if (path != std::string_view::npos) out.append(target.substr(path));
  return true;
}

bool bodiless_status(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

void response_head(std::string& out, int status, const Headers& headers, std::optional<std::size_t> body_size,
                   bool keep_alive, bool to_http10, std::string_view date_line) {
  constexpr std::string_view kKeepAlive = "Connection: keep-alive\r\n";
  const bool announce = keep_alive && to_http10;
  const Digits code(static_cast<std::size_t>(status)), length(body_size.value_or(0));
  const std::string_view reason = sales::reason_phrase(status);
  const Fields fields(headers);
  const bool has_length = body_size && !bodiless_status(status);
  // "HTTP/1.1 " code " " reason "\r\n", the fields, the blank line
  std::size_t size = 9 + code.view().size() + 1 + reason.size() + 2 + date_line.size() + fields.bytes() + 2;
  if (!keep_alive) size += kClose.size();
  if (announce) size += kKeepAlive.size();
  if (has_length) size += kContentLength.size() + length.view().size() + 2;
  HeadWriter head(out, size);
  head.put("HTTP/1.1 ").put(code.view()).put(" ").put(reason).put("\r\n").put(date_line);
  fields.write(head);
  if (!keep_alive) head.put(kClose);
  if (announce) head.put(kKeepAlive);
  if (has_length) head.put(kContentLength).put(length.view()).put("\r\n");
  head.put("\r\n");
}

void request_head(std::string& out, std::string_view method, std::string_view target, std::string_view host,
                  const Headers& headers, std::size_t body_size) {
  const Digits length(body_size);
  const Fields fields(headers);
  // RFC 9110 §8.6: a request without content needs no Content-Length, except for the
  // methods whose requests normally carry one.
  const bool has_length = body_size > 0 || method == "POST" || method == "PUT" || method == "PATCH";
  constexpr std::string_view kVersionAndHost = " HTTP/1.1\r\nHost: ";
  std::size_t size = method.size() + 1 + target.size() + kVersionAndHost.size() + host.size() + 2 + fields.bytes() + 2;
  if (has_length) size += kContentLength.size() + length.view().size() + 2;
  HeadWriter head(out, size);
  head.put(method).put(" ").put(target).put(kVersionAndHost).put(host).put("\r\n");
  fields.write(head);
  if (has_length) head.put(kContentLength).put(length.view()).put("\r\n");
  head.put("\r\n");
}

}  // namespace sales::http::wire

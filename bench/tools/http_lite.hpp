#pragma once
// The smallest blocking HTTP/1.1 keep-alive client the load tools need: one connection,
// one request at a time, Content-Length or chunked bodies, loopback only. No Asio, no
// allocations beyond the buffers, so the generator's own cost stays small and predictable.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bench {

struct Url {
  std::string host;  // an IPv4 address; "localhost" means 127.0.0.1
  std::uint16_t port = 80;
  std::string authority;  // host:port, for the Host header
};

inline Url parse_url(std::string_view u) {
  constexpr std::string_view scheme = "http://";
  if (u.substr(0, scheme.size()) != scheme) throw std::invalid_argument("URL must start with http://");
  u.remove_prefix(scheme.size());
  while (!u.empty() && u.back() == '/') u.remove_suffix(1);
  const auto colon = u.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("URL must name host:port");
  Url out;
  out.host = std::string(u.substr(0, colon));
  if (out.host == "localhost") out.host = "127.0.0.1";
  int port = 0;
  auto p = u.substr(colon + 1);
  if (std::from_chars(p.data(), p.data() + p.size(), port).ec != std::errc{} || port < 1 || port > 65535)
    throw std::invalid_argument("bad port in URL");
  out.port = static_cast<std::uint16_t>(port);
  out.authority = std::string(u);
  return out;
}

struct HttpResponse {
  int status = 0;
  std::string body;
};

inline bool iequal_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

// `extra_headers`: complete header lines, each ending in CRLF.
inline std::string make_request(std::string_view method, std::string_view target, const Url& url,
                                std::string_view json_body = {}, std::string_view extra_headers = {}) {
  std::string r;
  r.reserve(128 + json_body.size() + extra_headers.size());
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(url.authority).append("\r\n");
  r.append(extra_headers);
  if (!json_body.empty() || method == "POST" || method == "PUT") {
    r.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(json_body.size()))
        .append("\r\n");
  }
  r.append("\r\n").append(json_body);
  return r;
}

class Connection {
 public:
  Connection(Url url, int timeout_ms) : url_(std::move(url)), timeout_ms_(timeout_ms) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool connect() {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(url_.port);
    if (::inet_pton(AF_INET, url_.host.c_str(), &addr.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close();
      return false;
    }
    buf_.clear();
    return true;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }

  // Sends one request and reads its response. On a reused connection that turns out to be
  // closed by the peer before any byte of the response, reconnects and tries once more.
  // false: connection error or timeout (the connection is closed).
  bool exchange(const std::string& raw, HttpResponse& out) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connected();
      if (!reused && !connect()) return false;
      bool got_bytes = false;
      if (send_all(raw) && read_response(out, got_bytes)) return true;
      close();
      if (!reused || got_bytes) return false;
    }
    return false;
  }

 private:
  bool send_all(const std::string& raw) {
    std::size_t off = 0;
    while (off < raw.size()) {
      ssize_t n = ::send(fd_, raw.data() + off, raw.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool fill(bool& got_bytes) {
    char tmp[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      got_bytes = true;
      buf_.append(tmp, static_cast<std::size_t>(n));
      // Acknowledge at once: a server that writes head and body separately (Nagle on its
      // side) would otherwise wait for our delayed ACK, adding ~40 ms to the measurement.
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
      return true;
    }
  }

  bool read_response(HttpResponse& out, bool& got_bytes) {
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(got_bytes)) return false;
    std::string_view head(buf_.data(), head_end);
    // status line: HTTP/1.1 200 OK
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return false;
    out.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    long long content_length = -1;
    bool chunked = false, close_after = false;
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos < head.size()) {
      std::size_t next = head.find("\r\n", pos + 2);
      std::string_view line = head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
      if (iequal_prefix(line, "content-length:")) {
        content_length = std::atoll(std::string(line.substr(15)).c_str());
      } else if (iequal_prefix(line, "transfer-encoding:")) {
        chunked = line.find("chunked") != std::string_view::npos;
      } else if (iequal_prefix(line, "connection:")) {
        close_after = line.find("close") != std::string_view::npos;
      }
      pos = next;
    }
    std::size_t body_start = head_end + 4;
    out.body.clear();
    if (chunked) {
      std::size_t p = body_start;
      for (;;) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n", p)) == std::string::npos)
          if (!fill(got_bytes)) return false;
        const auto size = std::strtoull(buf_.c_str() + p, nullptr, 16);
        p = eol + 2;
        while (buf_.size() < p + size + 2)
          if (!fill(got_bytes)) return false;
        out.body.append(buf_, p, size);
        p += size + 2;
        if (size == 0) break;
      }
      buf_.erase(0, p);
    } else {
      const std::size_t len = content_length < 0 ? 0 : static_cast<std::size_t>(content_length);
      while (buf_.size() < body_start + len)
        if (!fill(got_bytes)) return false;
      out.body.assign(buf_, body_start, len);
      buf_.erase(0, body_start + len);
    }
    if (close_after) close();
    return true;
  }

  Url url_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buf_;
};

// Wall clock in microseconds since the epoch (to compare with the services' timestamps).
inline std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace bench

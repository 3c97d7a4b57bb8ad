#pragma once
// rabbitmq-c's headers moved under rabbitmq-c/ in 0.12; Debian 12 ships 0.11 with them at
// the top level. Private to src/amqp so nothing else sees the C API.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#endif

#include <sys/time.h>

#include <chrono>
#include <string>
#include <string_view>

namespace sales::amqp::native {

// A non-owning view: rabbitmq-c copies or sends the bytes before the call returns.
inline amqp_bytes_t bytes(std::string_view s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

inline std::string to_string(amqp_bytes_t b) {
  return b.bytes == nullptr ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

inline timeval to_timeval(std::chrono::microseconds d) {
  if (d.count() < 0) d = std::chrono::microseconds(0);
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(d.count() % 1000000);
  return tv;
}

}  // namespace sales::amqp::native

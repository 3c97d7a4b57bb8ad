#pragma once
// A connection's read buffer is reserved at these sizes when the connection is made. Beast
// reads max(512, free capacity) at a time, and a flat_buffer starts with exactly what its
// first read asked for, so without this every read stayed at 512 bytes: a page of 20
// products (3.9 kB) took eight system calls to read. Answers (clients, the gateway's
// upstream pool) get 16 kB; requests, small but for a body, 4 kB, since a server may hold
// thousands of connections. A header of their own, so that a translation unit that only
// sizes a buffer (client.cpp) does not take in read_message.hpp's read loop.
#include <cstddef>

namespace sales::http::detail {

constexpr std::size_t kReadBufferBytes = 16 * 1024;
constexpr std::size_t kRequestBufferBytes = 4 * 1024;

}  // namespace sales::http::detail

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

// At most this much is read from a socket at once.
constexpr std::size_t kMaxReadBytes = 64 * 1024;

// A read buffer's limit. The parser consumes body bytes as they come, so a buffer only ever
// holds what it cannot consume yet: an unfinished header (the parser's own header_limit
// stops that one first), chunk-size line or trailer section (Beast bounds neither), and one
// read. Without a limit a peer could send an endless chunk extension and the buffer would
// grow until the read timed out (a gigabyte in 30 s over loopback).
constexpr std::size_t read_buffer_limit(std::size_t header_limit) { return header_limit + kMaxReadBytes; }

}  // namespace sales::http::detail

#pragma once
// Tests on eight bytes at once (a 64-bit word read from text), for scans of text that
// usually holds none of the bytes looked for: header values for CR/LF/NUL, JSON strings
// for what must be escaped. Each answers whether ANY byte of the word matches; the caller
// then looks byte by byte at the one word that does.
#include <cstdint>
#include <cstring>

namespace sales::text::word_scan {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;

// Which byte matched is not told: a borrow may mark a byte above the first match too.

// Eight bytes from p, unaligned (memcpy is one load at -O2).
inline std::uint64_t load(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Some byte of w is below n, for n up to 128: (w - n·0x01…) sets a byte's high bit when
// it was below n or borrowed from below, and & ~w drops the bytes whose own high bit was
// set. A borrow starts only at a byte below n, so the answer is exact.
constexpr bool has_byte_below(std::uint64_t w, unsigned char n) { return ((w - kOnes * n) & ~w & kHigh) != 0; }

// Some byte of w equals c: that byte of w ^ c·0x01… is zero.
constexpr bool has_byte(std::uint64_t w, unsigned char c) { return has_byte_below(w ^ (kOnes * c), 1); }

}  // namespace sales::text::word_scan

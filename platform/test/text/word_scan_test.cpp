#include "sales/text/word_scan.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sales::text::word_scan {
namespace {

// Every byte value at every position of a word whose other bytes are `background`: the
// word-wide answers must be exactly the byte-wise ones (a borrow must never make up a match).
void expect_exact_on(char background) {
  for (int b = 0; b < 256; ++b) {
    for (int at = 0; at < 8; ++at) {
      std::string bytes(8, background);
      bytes[at] = static_cast<char>(b);
      const auto w = load(bytes.data());
      const auto bg = static_cast<unsigned char>(background);
      for (unsigned char n : {1, 0x20, 0x80}) {
        EXPECT_EQ(has_byte_below(w, n), b < n || bg < n) << "byte " << b << " at " << at << " below " << int(n);
      }
      for (unsigned char c : {'\0', '\r', '\n', '"', '\\', '\xff'}) {
        EXPECT_EQ(has_byte(w, c), b == c || bg == c) << "byte " << b << " at " << at << " is " << int(c);
      }
    }
  }
}

TEST(WordScan, AnswersExactlyWhatAByteLoopWouldForEveryByteAtEveryPosition) {
  for (char background : {'a', '\x21', '\x7f', '\x80', '\xff', '\x01'}) expect_exact_on(background);
}

}  // namespace
}  // namespace sales::text::word_scan

#pragma once
// UTF-8 text as the contract counts it: lengths in code points (a name of "at most 200
// characters"), and text cut only where a character starts, so what is quoted or stored
// after a cut is still UTF-8.
#include <cstddef>
#include <string_view>

namespace sales::text {

// Well-formed UTF-8: no stray continuation bytes, overlongs, surrogates or code points
// past U+10FFFF.
bool valid_utf8(std::string_view s);

// Code points in s (of valid UTF-8; otherwise the bytes that start a character).
std::size_t utf8_length(std::string_view s);

// The first max_chars characters of s (all of s when it has no more).
std::string_view utf8_prefix_chars(std::string_view s, std::size_t max_chars);

// The longest prefix of s of at most max_bytes bytes that splits no character: for a
// field whose limit is in bytes (an AMQP header).
std::string_view utf8_prefix_bytes(std::string_view s, std::size_t max_bytes);

// Whether s (valid UTF-8) shows nothing: every character is white space or invisible
// (Unicode's White_Space and Default_Ignorable_Code_Point: a no-break space, an
// ideographic space, a zero-width space, a byte-order mark, a soft hyphen...). A name
// made only of these is as empty as "   " to whoever reads a list of them. True for "".
bool looks_blank(std::string_view s);

// Whether s holds a control character: C0, DEL, C1, or the line and paragraph separators
// (U+2028, U+2029), which break a line as \n does. With layout_allowed, the characters that
// lay out text (\n, \r, \t and the two separators) do not count: a description may have
// paragraphs, a name may not. Bytes that are not UTF-8 do not count here either (whoever
// reads s checks that). Every check that refuses or escapes controls asks this one.
bool has_control(std::string_view s, bool layout_allowed = false);

// Whether s (valid UTF-8) holds a character that does not show: white space, an invisible
// one (as above) or a control (as has_control counts them). Where every character must be
// seen, such as an email address, two values that differ only by these look the same to
// whoever reads them.
bool has_invisible(std::string_view s);

}  // namespace sales::text

#pragma once
// The Date field of every answer (RFC 9110 §6.6.1: an origin server with a clock sends it;
// caches and clients compute an answer's age from it).
#include <ctime>
#include <string>
#include <string_view>

namespace sales::http {

// `t` as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT": fixed English names, whatever
// the process's locale.
std::string imf_fixdate(std::time_t t);

// "Date: <now as imf_fixdate>\r\n", formatted at most once a second per thread: a view
// into the calling thread's buffer, valid until its next call.
std::string_view date_field_line();

}  // namespace sales::http

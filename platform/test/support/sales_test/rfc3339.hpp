#pragma once
// Times as the contract writes them (DESIGN §2: RFC 3339 UTC strings), for the e2e and saga
// tests alike.
#include <cstdint>
#include <optional>
#include <string_view>

namespace sales_test {

// "2024-05-01T12:34:56Z" or with fractional seconds: RFC 3339 in UTC ("Z").
bool is_rfc3339_utc(std::string_view s);
// Microseconds since the epoch of an RFC 3339 UTC time; nullopt when it is not one.
std::optional<std::int64_t> rfc3339_micros(std::string_view s);

}  // namespace sales_test

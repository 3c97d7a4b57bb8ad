#pragma once
// One spelling for a JSON document's value: members in key order (bytes), no spaces, a
// string's escapes as json::append_escaped writes them, and a number by its value (2, 2.0
// and 2.00 are "2"; 19.990 is "19.99"). Two documents that mean the same read the same, so
// an Idempotency-Key repeat is told from another request by what it asks, not by how its
// client serialised it (Stripe compares parameters, not bytes).
#include <optional>
#include <string>
#include <string_view>

namespace sales::json {

// nullopt when `text` is not one JSON document (then only its bytes can be compared).
std::optional<std::string> canonical(std::string_view text);

}  // namespace sales::json

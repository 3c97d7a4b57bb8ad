#pragma once
// One spelling for a JSON document's value: members in key order (bytes), no spaces, a
// string's escapes as json::append_escaped writes them, and a number by its value (2, 2.0
// and 2.00 are "2"; 19.990 is "19.99"). Two documents that mean the same read the same, so
// an Idempotency-Key repeat is told from another request by what it asks, not by how its
// client serialised it (Stripe compares parameters, not bytes). A number is its double:
// literals past a double's precision (19.999999999999999999 and 20) read the same, and a body
// holding one is refused by the services' own validation before any key is looked at.
#include <optional>
#include <string>
#include <string_view>

namespace sales::json {

// nullopt when `text` is not one JSON document (then only its bytes can be compared).
std::optional<std::string> canonical(std::string_view text);

}  // namespace sales::json

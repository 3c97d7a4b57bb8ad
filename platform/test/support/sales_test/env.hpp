#pragma once
// What `./sales test` exports to the tests. A missing variable fails the test loudly.
#include <optional>
#include <string>

namespace sales_test {

std::optional<std::string> optional_env(const char* name);  // nullopt when unset or empty
std::string require_env(const char* name);   // FAILs (throws) when unset
long env_long(const char* name, long fallback);  // fallback when unset or empty; throws when not a number
std::string gateway_url();                    // SALES_GATEWAY_URL
std::string unique_suffix();                  // random, for names that must not collide

}  // namespace sales_test

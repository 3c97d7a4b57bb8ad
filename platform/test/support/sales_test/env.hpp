#pragma once
// What `./sales test` exports to the tests. A missing variable fails the test loudly.
#include <string>

namespace sales_test {

std::string require_env(const char* name);   // FAILs (throws) when unset
std::string gateway_url();                    // SALES_GATEWAY_URL
std::string unique_suffix();                  // random, for names that must not collide

}  // namespace sales_test

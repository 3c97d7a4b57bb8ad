#pragma once
// A path as the services' router reads it (platform/src/http/router.cpp): empty segments
// are skipped and an id is a number, so /products//0042/ names what /products/42 names.
// The gateway keys its cache and its one non-repeatable PUT on that canonical spelling, so
// no alias escapes either rule.
#include <string>
#include <string_view>

namespace gateway {

// No empty segments (no doubled or trailing slash), no leading zeros in a numeric segment;
// "/" for a path with no segment at all.
std::string canonical_path(std::string_view path);

// canonical_path(path) == path, without building it (every cacheable GET asks).
bool is_canonical(std::string_view path);

}  // namespace gateway

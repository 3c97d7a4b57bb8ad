#pragma once
// Descriptors: every client connection holds one, and the gateway a second to its upstream.
#include <cstddef>
#include <cstdint>

namespace sales::service {

// Raises this process's soft limit of open descriptors to its hard one, as Go's runtime and
// nginx's worker_rlimit_nofile do: a Debian login shell starts at a soft 1,024 (hard 524,288),
// under which a server ran out of descriptors long before its connection cap. Returns the
// soft limit now in force (0: it could not be read).
std::uint64_t raise_open_files_limit();

// The client connections a server may hold with `open_files` descriptors: the configured
// count, at most half of them; the other half is for the gateway's upstream connections,
// the database pool, the broker and the log file.
std::size_t connections_within(std::size_t configured, std::uint64_t open_files);

}  // namespace sales::service

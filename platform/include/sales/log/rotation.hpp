#pragma once
// Size-based rotation of a log that a service writes to a regular file. ./sales points each
// service's stderr at .state/logs/<name>.log; under load a service logs a line per order
// and per status change, hundreds of MB a day, so the file is rotated while the service
// runs, not only when it starts. Containers log to a pipe, which the runtime rotates:
// nothing is done for anything but a regular file.
#include <cstdint>
#include <string>

namespace sales::log {

// When `fd` is a regular file of more than `max_bytes`: renames it to <path>.1 (replacing
// the one before) and points `fd` at a new, empty <path>, opened for appending. Lines that
// other threads write meanwhile land in one file or the other; none is lost. Returns the
// path rotated, or "" when nothing was done (not a regular file, within the limit, or the
// file no longer has a name). `twin_fd` (if not -1), when it is the same open file (as
// stdout and stderr are after `>>log 2>&1`), is pointed at the new file too.
std::string rotate_if_over(int fd, std::uint64_t max_bytes, int twin_fd = -1);

}  // namespace sales::log

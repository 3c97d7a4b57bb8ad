#pragma once
// Structured logs (one JSON object per line on stderr) that carry the request id of the
// request being served on this thread.
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

// fmt 9 defines its formatting engine in fmt/format.h (which spdlog includes) without an
// extern template, so every file that logs instantiated and optimised all of it again at
// -O3 (about 3 s of compile time per file; the linker kept one copy). Its one explicit
// instantiation is in platform/src/log/fmt_lib.cpp, compiled from the same headers.
#if FMT_VERSION >= 90000 && FMT_VERSION < 100000
FMT_BEGIN_NAMESPACE
namespace detail {
extern template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                                        locale_ref);
}  // namespace detail
FMT_END_NAMESPACE
#endif

#include <string>
#include <string_view>

namespace sales::log {

// `level`: one of kLevels, in any case (an unknown one: info; check it first with is_level).
void init(std::string_view service, std::string_view level);
inline constexpr std::string_view kLevels = "trace, debug, info, warn, error, critical, off";
// Whether `name` names a level. spdlog's own parser takes only lower case and turns every
// other word into "off": LOG_LEVEL=INFO silenced a service.
bool is_level(std::string_view name);

// One JSON object per line: ts, level, service, request_id (this thread's RequestScope), msg.
// What others chose (a client's request id, a request's target) is escaped and made valid
// UTF-8, so it can neither add fields nor break the line. `service` is ours.
std::unique_ptr<spdlog::formatter> json_formatter(std::string_view service);

// Sets the request id for log lines written on this thread while the scope lives.
class RequestScope {
 public:
  explicit RequestScope(std::string_view request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};
std::string_view current_request_id();

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::warn;

}  // namespace sales::log

#pragma once
// Structured logs (one JSON object per line on stderr) that carry the request id of the
// request being served on this thread.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace sales::log {

void init(std::string_view service, std::string_view level);  // level: debug|info|warn|error

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

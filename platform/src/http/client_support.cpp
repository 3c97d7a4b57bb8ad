// What service-to-service callers share besides the client itself; kept out of client.cpp,
// the translation unit with Beast's client templates.
#include "sales/http/client.hpp"

#include <stdexcept>

#include "sales/config/config.hpp"

namespace sales::http {

std::string base_url_from_env(config::Env& env, const std::string& variable, const std::string& fallback) {
  auto url = env.str(variable, fallback);
  try {
    parse_base_url(url);
    return url;
  } catch (const std::invalid_argument& e) {
    env.invalid(variable + ": " + e.what());
    return fallback;
  }
}

void forward_trace(const Request& cause, Headers& headers) {
  headers.set("X-Request-Id", std::string(cause.request_id()));
  if (auto tp = cause.headers.get("traceparent")) headers.set("traceparent", std::string(*tp));
}

}  // namespace sales::http

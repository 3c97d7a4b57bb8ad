#include "api/product_check.hpp"

#include <chrono>

#include "sales/log/log.hpp"
#include "sales/resilience/deadline.hpp"

namespace inventory {

namespace http = sales::http;

namespace {
// The question only chooses between two refusals, so it is kept short: a product service
// that does not answer within it leaves the answer "cannot tell", not the request waiting.
constexpr std::chrono::milliseconds kTimeout{500};
constexpr std::size_t kMaxIdle = 2;  // asked rarely: right after a product's creation
}  // namespace

RestProductCheck::RestProductCheck(const std::string& base_url)
    : client_({.base_url = base_url, .max_idle = kMaxIdle, .timeout = kTimeout}) {}

ProductKnown RestProductCheck::known(std::int64_t product_id, const http::Request& cause) {
  auto permit = asking_.try_enter();
  return permit ? ask(product_id, cause) : ProductKnown::CannotTell;
}

ProductKnown RestProductCheck::ask(std::int64_t product_id, const http::Request& cause) {
  http::Headers headers;
  headers.set("Accept", "application/json");
  http::forward_trace(cause, headers);
  const std::string target = "/products/" + std::to_string(product_id);
  try {
    const auto res = client_.get(target, headers);
    if (res.status == 200) return ProductKnown::Yes;
    if (res.status == 404) return ProductKnown::No;
    sales::log::warn("product service answered GET {} with {}: cannot tell whether the product exists", target,
                     res.status);
  } catch (const http::ClientError& e) {
    sales::log::warn("product service not asked whether product {} exists: {}", product_id, e.what());
  } catch (const sales::resilience::DeadlineExceeded& e) {
    // The request's own time ran out (the refusal still fits in the time kept for answering).
    sales::log::info("product service not asked whether product {} exists: {}", product_id, e.what());
  }
  return ProductKnown::CannotTell;
}

std::string product_service_url(sales::config::Env& env) {
  return http::base_url_from_env(env, "PRODUCT_SERVICE_URL", "http://127.0.0.1:8001");
}

}  // namespace inventory

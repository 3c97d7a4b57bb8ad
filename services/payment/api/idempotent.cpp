#include "api/idempotent.hpp"

#include "sales/service/idempotency.hpp"

namespace payment {

namespace service = sales::service;

namespace {
constexpr std::string_view kScope = "payments";
}  // namespace

IdempotentRequest idempotent_request(const sales::http::Request& req, std::string route, bool with_body) {
  IdempotentRequest out{service::idempotency_key(req), {}, {}};
  if (!out.key) return out;
  out.route = std::move(route);
  if (with_body) {
    out.route += "\n";
    out.body = req.body;
  }
  return out;
}

std::optional<sales::http::Response> replay(sales::pg::Pool& pool, const IdempotentRequest& req) {
  return service::stored_response(pool, kScope, req.key, {req.route, req.body});
}

sales::http::Response run_once(sales::pg::Pool& pool, const IdempotentRequest& req,
                               const std::function<sales::http::Response(sales::pg::Transaction&)>& work) {
  return service::run_once(pool, kScope, req.key, {req.route, req.body}, work);
}

}  // namespace payment

#pragma once
// The Directory of placement over REST: GET /customers/{id} on the customer service and
// GET /products/{id} on the product service, each through its own pooled client, with
// the request's X-Request-Id and traceparent so one order's calls share a trace.
#include "domain/placement.hpp"
#include "sales/config/config.hpp"
#include "sales/http/client.hpp"

namespace order {

class RestDirectory : public Directory {
 public:
  RestDirectory(sales::http::Client& customers, sales::http::Client& products)
      : customers_(customers), products_(products) {}

  std::optional<CustomerSnapshot> customer(std::int64_t id, const CallContext& context) override;
  std::optional<ProductSnapshot> product(std::int64_t id, const CallContext& context) override;

 private:
  sales::http::Client& customers_;
  sales::http::Client& products_;
};

// What the client for `<SERVICE>_SERVICE_URL` (e.g. CUSTOMER_SERVICE_URL) should be: an
// invalid URL is reported through env (the service then refuses to start) and replaced
// by the default so construction still succeeds. UPSTREAM_TIMEOUT_MS bounds each call.
sales::http::ClientOptions upstream_options(sales::config::Env& env, const std::string& variable,
                                            const std::string& default_url);

// Reads a customer's or product's JSON representation (throws DirectoryUnavailable when
// it is not what the owner's contract promises).
CustomerSnapshot parse_customer(std::string_view body);
ProductSnapshot parse_product(std::string_view body);

}  // namespace order

#pragma once
// The Directory of placement over REST: GET /customers/{id} on the customer service,
// GET /products/{id} (or, for several, GET /products?ids=) on the product service and
// GET /payments/{id} on the payment service, each through its own pooled client, with
// the request's X-Request-Id and traceparent so one order's calls share a trace.
#include "domain/placement.hpp"
#include "sales/config/config.hpp"
#include "sales/http/client.hpp"

namespace order {

class RestDirectory : public Directory {
 public:
  RestDirectory(sales::http::Client& customers, sales::http::Client& products, sales::http::Client& payments)
      : customers_(customers), products_(products), payments_(payments) {}

  std::optional<CustomerSnapshot> customer(std::int64_t id, const CallContext& context) override;
  std::optional<ProductSnapshot> product(std::int64_t id, const CallContext& context) override;
  // One GET /products?ids=... for two or more (an order of 100 lines made 100 calls); one
  // GET /products/{id} for one. `ids` sorted and distinct (price_order's). A product service
  // that does not take ?ids= yet (a rolling upgrade) answers 400 naming it as unknown: then
  // one call each, as before; any other 400, or a product not asked for, is unavailable.
  std::map<std::int64_t, ProductSnapshot> find_products(const std::vector<std::int64_t>& ids,
                                                        const CallContext& context) override;
  // GET /payments/{id} on the payment service: its "status".
  std::optional<std::string> payment_status(std::int64_t payment_id, const CallContext& context) override;
  // GET /payments?order_id= on the payment service: one short page.
  PaymentsOfOrder payments_of(std::int64_t order_id, const CallContext& context) override;

 private:
  sales::http::Client& customers_;
  sales::http::Client& products_;
  sales::http::Client& payments_;
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
// GET /products?ids= 's list body: each item's id and price.
std::map<std::int64_t, ProductSnapshot> parse_products(std::string_view list_body);

}  // namespace order

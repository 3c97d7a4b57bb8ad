#pragma once
// Whether the product service knows a product that inventory has no stock for. Inventory
// learns of a product from its product.created event, some milliseconds (seconds, with the
// broker slow or down) after POST /products answered 201: a client that restocks or reads
// the stock of a product it has just created must hear "not yet, try again", not that the
// product is unknown or deleted (a black-box probe got that 404 in 2 of 10 tries). Asked
// only then, on a request that found no stock row: never on the paths that find one.
#include <cstdint>
#include <string>

#include "sales/config/config.hpp"
#include "sales/http/client.hpp"
#include "sales/http/message.hpp"
#include "sales/resilience/bulkhead.hpp"

namespace inventory {

enum class ProductKnown { Yes, No, CannotTell };

class ProductCheck {
 public:
  virtual ~ProductCheck() = default;
  // Yes: the product service has the product (its stock is on the way); No: it says 404;
  // CannotTell: it could not be reached in time or answered something else.
  virtual ProductKnown known(std::int64_t product_id, const sales::http::Request& cause) = 0;
};

// GET PRODUCT_SERVICE_URL/products/{id}, with the cause's X-Request-Id and traceparent, at
// most 500 ms and never past the request's deadline. Two at a time: the handler threads
// are shared by every route, and a product service that hangs must not hold them all (a
// crawler asking for unknown ids): a third question meanwhile is answered CannotTell.
class RestProductCheck final : public ProductCheck {
 public:
  explicit RestProductCheck(const std::string& base_url);
  ProductKnown known(std::int64_t product_id, const sales::http::Request& cause) override;

 private:
  ProductKnown ask(std::int64_t product_id, const sales::http::Request& cause);

  sales::http::Client client_;
  sales::resilience::Bulkhead asking_{2};
};

// PRODUCT_SERVICE_URL (default http://127.0.0.1:8001), validated: an invalid one stops the
// service at start, naming it.
std::string product_service_url(sales::config::Env& env);

}  // namespace inventory

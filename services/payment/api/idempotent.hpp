#pragma once
// Idempotency-Key (DESIGN §3, as Stripe's) around a handler's transaction, on top of
// sales/service/idempotency.hpp. One key space for all payment routes: what identifies
// a request is its method, path and body, so a key reused for another payment or another
// action is the 422 of "same key, different request".
//
// Only successful responses are remembered: a handler that fails rolls its transaction
// back, the key's claim with it, so a client may retry the same key once the cause is
// gone (e.g. the order has become CONFIRMED), and a validation error is never frozen in.
#include <functional>
#include <optional>
#include <string>

#include "sales/http/message.hpp"
#include "sales/pg/pool.hpp"

namespace payment {

struct IdempotentRequest {
  std::optional<std::string> key;  // nullopt: no header, every request runs
  std::string route;               // method and path, canonical
  std::string_view body;           // the request's (it outlives this): "" when it does not count
};

// Reads and validates the Idempotency-Key header (400 when malformed). `route`: the method
// and path the request means, however the client spelt it ("PUT /payments/7/confirm" for
// /payments/07/confirm too), written as the plain spelling was stored before, so keys used
// then still match. `with_body`: the body is part of the request's identity (false on
// routes that ignore it).
IdempotentRequest idempotent_request(const sales::http::Request& req, std::string route, bool with_body);

// The stored response of an earlier request with this key, if it completed; 422 when the
// key was used for a different request. Changes nothing: for a check before slow work
// (the order lookup), so that a repeat is answered even after the order has moved on.
std::optional<sales::http::Response> replay(sales::pg::Pool& pool, const IdempotentRequest& req);

// Runs `work` in a transaction that also claims the key and remembers the response, and
// commits. A concurrent repeat waits on the claim and then gets the stored response.
sales::http::Response run_once(sales::pg::Pool& pool, const IdempotentRequest& req,
                               const std::function<sales::http::Response(sales::pg::Transaction&)>& work);

}  // namespace payment

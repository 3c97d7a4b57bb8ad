#pragma once
// Idempotency-Key (as Stripe's): the first request with a key runs; a repeat with the same
// key and the same body gets the first response again; the same key with another body is
// 422. A JSON body is the same when its values are (json::canonical: key order, spacing
// and 2 against 2.00 do not count), as a client's retry may serialise it afresh. The key is
// claimed inside the transaction that does the work, so a concurrent repeat waits on the
// key's row lock and then reads the stored response: one effect.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sales/http/message.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace sales::service {

inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// `migrations` and the table's (versions 9001.. so they never collide with a service's own
// 0001..).
std::vector<pg::Migration> with_idempotency_migrations(std::vector<pg::Migration> migrations);

// The request's Idempotency-Key, validated (400 when empty, too long, not printable, or sent
// twice: which one would the client mean?).
std::optional<std::string> idempotency_key(const http::Request& req);

// What a keyed request asks, to tell a repeat of it from another request: what its route
// adds (method, path, ids: "" when the scope says it all) and its body. Views: they must
// outlive the call they are passed to.
struct KeyedRequest {
  std::string_view route;
  std::string_view body;
};

// The whole pattern: in one transaction, claim the key (a repeat returns the stored
// response), run `work`, remember its response, commit. Without a key it just runs `work`.
// A deadlock or serialization failure runs it all again (pg::with_retry), so `work` must
// change nothing outside `tx`.
http::Response run_once(pg::Pool& pool, std::string_view scope, const std::optional<std::string>& key,
                        KeyedRequest request, const std::function<http::Response(pg::Transaction&)>& work);

// The stored response for a repeated key, looked up without keeping a claim: for a request
// that fails before its transaction yet may repeat one that succeeded.
std::optional<http::Response> stored_response(pg::Pool& pool, std::string_view scope,
                                              const std::optional<std::string>& key, KeyedRequest request);

// Keys are kept at least 24 h (the contract); this deletes up to 1,000 older than 48 h.
// run_once calls it every 1,000th keyed request; its errors are the caller's.
void prune_idempotency_keys(pg::Pool& pool);

}  // namespace sales::service

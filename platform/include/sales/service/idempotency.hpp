#pragma once
// Idempotency-Key (as Stripe's): the first request with a key runs; a repeat with the same
// key and the same body gets the first response again; the same key with another body is
// 422. The key is claimed inside the transaction that does the work, so a concurrent
// repeat waits on the key's row lock and then reads the stored response: one effect.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sales/http/message.hpp"
#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace sales::service {

inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// The table; version 9001 so it never collides with a service's own 0001.. migrations.
pg::Migration idempotency_migration();

// The request's Idempotency-Key, validated (400 when empty, too long or not printable).
std::optional<std::string> idempotency_key(const http::Request& req);

// Inside `tx`: nullopt when this request is the first with the key (go on, then call
// remember()); the stored response for a repeat; throws 422 for the key with another body.
std::optional<http::Response> claim(pg::Transaction& tx, std::string_view scope, std::string_view key,
                                    std::string_view request_body);
void remember(pg::Transaction& tx, std::string_view scope, std::string_view key, const http::Response& response);

// The whole pattern: in one transaction, claim the key (a repeat returns the stored
// response), run `work`, remember its response, commit. Without a key it just runs `work`.
// A deadlock or serialization failure runs it all again (pg::with_retry), so `work` must
// change nothing outside `tx`.
http::Response run_once(pg::Pool& pool, std::string_view scope, const std::optional<std::string>& key,
                        std::string_view fingerprint, const std::function<http::Response(pg::Transaction&)>& work);

// The stored response for a repeated key, looked up without keeping a claim: for a request
// that fails before its transaction yet may repeat one that succeeded.
std::optional<http::Response> stored_response(pg::Pool& pool, std::string_view scope,
                                              const std::optional<std::string>& key, std::string_view fingerprint);

// Keys are kept at least 24 h (the contract); this deletes up to 1,000 older than 48 h.
// run_once calls it every 1,000th keyed request; its errors are the caller's.
void prune_idempotency_keys(pg::Pool& pool);

}  // namespace sales::service

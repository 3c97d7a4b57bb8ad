#pragma once
// Idempotency-Key (as Stripe's): the first request with a key runs; a repeat with the same
// key and the same body gets the first response again; the same key with another body is
// 422. The key is claimed inside the transaction that does the work, so a concurrent
// repeat waits on the key's row lock and then reads the stored response: one effect.
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

}  // namespace sales::service

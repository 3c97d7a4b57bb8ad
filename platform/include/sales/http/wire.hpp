#pragma once
// HTTP/1.1 message heads written by hand into one buffer. The server's answers and the
// gateway's proxied requests leave as head + body in a single write; Beast's serializer
// (buffer-sequence iterators over every field) was the gateway's largest user-space cost.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sales/http/message.hpp"

namespace sales::http::wire {

// Connection-level fields a proxy never forwards (RFC 9110 §7.6.1), plus the ones this
// code computes itself (Host, Content-Length, Expect).
bool hop_by_hop(std::string_view name);

// Whether a response with this status carries no body and no Content-Length (1xx, 204, 304).
bool bodiless_status(int status);

// Whether `value` may be a Host field's value (RFC 9112 §3.2, RFC 3986 §3.2.2): empty, or a
// host (a name, an IPv4 or a bracketed IPv6 address) and an optional port, in the
// characters those allow; no user info, no space, no list.
bool valid_host(std::string_view value);

// Sets `out` to a request target in absolute form ("http://shop/products/1?x", which a
// server must take, RFC 9112 §3.2.2) as the path and query the routes know
// ("/products/1?x", "/" for an empty path), and to any other target as it is. False, and
// `out` untouched, for an absolute form whose authority is empty or no valid host, or with
// a fragment: a 400.
bool assign_origin_form(std::string& out, std::string_view target);

// "HTTP/1.1 <status> <reason>" (sales::reason_phrase), the handler's fields (minus
// hop-by-hop ones), Connection: close when the connection ends (or Connection: keep-alive
// when it stays open for an HTTP/1.0 client, which otherwise waits for the close: RFC 9112
// §9.3), Content-Length unless bodiless_status or `body_size` is nullopt (an answer to HEAD
// whose GET length is not known: RFC 9110 §8.6 allows none, never a wrong one). A non-empty
// `date_line` (a whole "Date: …\r\n", http::date_field_line) follows the status line.
// Replaces `out`.
void response_head(std::string& out, int status, const Headers& headers, std::optional<std::size_t> body_size,
                   bool keep_alive, bool to_http10 = false, std::string_view date_line = {});

// "<method> <target> HTTP/1.1", Host, the fields that are not hop-by-hop, and
// Content-Length when there is a body or the method carries one. Replaces `out`.
void request_head(std::string& out, std::string_view method, std::string_view target, std::string_view host,
                  const Headers& headers, std::size_t body_size);

}  // namespace sales::http::wire

#pragma once
// The request id every request carries (X-Request-Id): the client's when it is sane, else
// one generated here; and the same id on the answer (server.hpp: finalize_response).
#include <string>
#include <string_view>

#include "sales/http/message.hpp"

namespace sales::http::detail {

// 1..128 visible ASCII characters: anything else is replaced, not logged or echoed.
bool acceptable_request_id(std::string_view id);

// The parser filled in method, target, headers and body; what remains is the connection's.
void complete_request(Request& r, bool keep_alive, const std::string& remote_ip);

}  // namespace sales::http::detail

#pragma once
// How long a trace header an event carries may be; apart from envelope.hpp so that the
// gateway, which bounds the traceparent it lets in, needs no JSON.
#include <cstddef>

namespace sales::events {

// The longest trace header (traceparent, x-request-id) an event carries; a longer one is
// left off. An AMQP message's headers must fit one frame with the retry and dead-letter
// headers added to it: a dead-letter move that cannot be published leaves the message at
// the head of its queue.
inline constexpr std::size_t kMaxTraceHeaderBytes = 512;

}  // namespace sales::events

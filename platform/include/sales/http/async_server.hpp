#pragma once
// The server for handlers that wait on I/O without blocking a thread (the gateway).
// With loop_per_thread each thread runs its own event loop and acceptor (SO_REUSEPORT),
// so per-thread state (upstream connection pools) needs no locks.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>

#include "sales/http/server.hpp"

namespace sales::http {

using AsyncHandler = std::function<boost::asio::awaitable<Response>(Request&)>;

std::unique_ptr<Server> make_async_server(ServerOptions opts, AsyncHandler handler, metrics::Registry* metrics,
                                          bool loop_per_thread);

}  // namespace sales::http

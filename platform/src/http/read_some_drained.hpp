#pragma once
// A socket read that tells the event loop when it has drained the socket, so the next read
// waits for the socket's next readiness event instead of first trying a recv that fails.
//
// Why: Boost 1.81's epoll reactor tries every read at once (a "speculative" recv) and only
// stops trying after end of stream. A proxy reads when it has just sent a request or an
// answer, that is when nothing has come back yet: in the gateway nearly every such try failed
// with EAGAIN, two wasted system calls per proxied request (3.7 recvs where 2 carry bytes).
// nginx avoids them the same way: a read that returned less than it asked for means the
// socket was empty at that moment, and the edge-triggered epoll registration reports any
// byte that arrives afterwards.
//
// How: the same reactor operation as socket.async_read_some, with one difference in what its
// attempt reports: a short read is "done and exhausted" (Asio's own status for end of stream),
// which makes the reactor skip the next attempt until epoll reports the socket readable.
// Asio sets and clears that flag under the socket's reactor lock, and an event that arrives
// after the short read sets it again before any queued read is tried, so no byte waits.
//
// It reaches into Asio's detail namespace (the reactor and its operation type), so it is used
// only with the Boost it was written for and the epoll reactor; elsewhere it is plain
// async_read_some. Cancellation is by closing or cancelling the socket (watchdog.hpp does),
// not by per-operation cancellation slots, which this operation does not connect.
// Included only by read_message.hpp, in translation units that already hold Asio.
#include <boost/asio.hpp>
#include <boost/version.hpp>
#include <memory>
#include <type_traits>

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define SALES_READ_SOME_DRAINED 1
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#endif

namespace sales::http::detail {

#ifdef SALES_READ_SOME_DRAINED

namespace asio_detail = boost::asio::detail;

template <class Handler, class IoExecutor>
class DrainingRecvOp : public asio_detail::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(DrainingRecvOp);

  DrainingRecvOp(asio_detail::socket_type socket, boost::asio::mutable_buffer buffer, Handler& handler,
                 const IoExecutor& io_ex)
      : reactor_op(boost::system::error_code(), &DrainingRecvOp::attempt, &DrainingRecvOp::complete),
        socket_(socket),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

 private:
  static status attempt(reactor_op* base) {
    auto* op = static_cast<DrainingRecvOp*>(base);
    if (!asio_detail::socket_ops::non_blocking_recv1(op->socket_, op->buffer_.data(), op->buffer_.size(), 0, true,
                                                     op->ec_, op->bytes_transferred_)) {
      return not_done;  // nothing there yet: the reactor waits for readiness
    }
    bool short_read = !op->ec_ && op->bytes_transferred_ < op->buffer_.size();
    return short_read || op->ec_ == boost::asio::error::eof ? done_and_exhausted : done;
  }

  // As Asio's own operations complete: the memory is freed before the handler runs, and the
  // handler runs only when the loop runs it (owner), not when the loop is destroyed.
  static void complete(void* owner, asio_detail::operation* base, const boost::system::error_code&, std::size_t) {
    auto* op = static_cast<DrainingRecvOp*>(base);
    ptr p = {std::addressof(op->handler_), op, op};
    asio_detail::handler_work<Handler, IoExecutor> work(std::move(op->work_));
    asio_detail::binder2<Handler, boost::system::error_code, std::size_t> handler(op->handler_, op->ec_,
                                                                                 op->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner) {
      asio_detail::fenced_block fence(asio_detail::fenced_block::half);
      work.complete(handler, handler.handler_);
    }
  }

  asio_detail::socket_type socket_;
  boost::asio::mutable_buffer buffer_;
  Handler handler_;
  asio_detail::handler_work<Handler, IoExecutor> work_;
};

// basic_socket keeps its service implementation protected; a pointer to that member, named
// through a derived class, reads it from any socket without casting the socket.
struct SocketInternals : boost::asio::ip::tcp::socket {
  static auto& of(boost::asio::ip::tcp::socket& socket) { return socket.*(&SocketInternals::impl_); }
};

// The loop's reactor, looked up once per thread and loop (use_service takes a lock).
inline asio_detail::reactor& reactor_of(boost::asio::ip::tcp::socket& socket) {
  auto& context = boost::asio::query(socket.get_executor(), boost::asio::execution::context);
  thread_local boost::asio::execution_context* cached_context = nullptr;
  thread_local asio_detail::reactor* cached_reactor = nullptr;
  if (cached_context != &context) {
    cached_reactor = &boost::asio::use_service<asio_detail::reactor>(context);
    cached_context = &context;
  }
  return *cached_reactor;
}

#endif

// socket.async_read_some(buffer, token), but a read that drains the socket makes the next
// one wait for readiness instead of trying a recv first. `buffer` must not be empty.
template <class Token>
auto async_read_some_drained(boost::asio::ip::tcp::socket& socket, boost::asio::mutable_buffer buffer, Token&& token) {
#ifdef SALES_READ_SOME_DRAINED
  return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
      [&socket, buffer](auto handler) {
        using Handler = std::decay_t<decltype(handler)>;
        using Op = DrainingRecvOp<Handler, boost::asio::ip::tcp::socket::executor_type>;
        auto& impl = SocketInternals::of(socket).get_implementation();
        auto& reactor = reactor_of(socket);
        typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
        p.p = new (p.v) Op(impl.socket_, buffer, handler, socket.get_executor());
        if ((impl.state_ & asio_detail::socket_ops::non_blocking) ||
            asio_detail::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, p.p->ec_)) {
          reactor.start_op(asio_detail::reactor::read_op, impl.socket_, impl.reactor_data_, p.p, false, true);
        } else {
          reactor.post_immediate_completion(p.p, false);
        }
        p.v = p.p = nullptr;
      },
      token);
#else
  return socket.async_read_some(buffer, std::forward<Token>(token));
#endif
}

}  // namespace sales::http::detail

#pragma once
// A socket read that tells the event loop when it has emptied the socket, so the next read
// waits for the socket's next readiness event instead of first trying a recv that fails.
//
// Why: Boost 1.81's epoll reactor tries every read at once (a "speculative" recv) and stops
// trying only after end of stream. A proxy reads right after it has sent a request or an
// answer, when nothing has come back yet: in the gateway 1.7-1.9 recvs per proxied request
// failed with EAGAIN, besides the 2 that read. nginx skips such reads: after a short read
// it waits for epoll, unless epoll has said a close is pending (EPOLLRDHUP).
//
// How: the same reactor operation as socket.async_read_some, except that it reads with
// recvmsg and the kernel's TCP_INQ hint (tcp(7)): the bytes still queued after the read, or 1
// once the peer's FIN has come. When it says 0, the read reports "done and exhausted" (Asio's
// own status for end of stream), and the reactor skips the next attempt until epoll reports
// the socket again; edge-triggered epoll reports every byte that arrives after the read.
// Asio sets and clears that flag under the socket's reactor lock (or on the loop's only
// thread). A socket without TCP_INQ (enable_drain_hint) gets no hint, and every read tries
// a recv first, as Asio's own does.
//
// Not covered: an error that arrives together with the last bytes (a reset, RST, most
// likely) gives no hint, so the next read waits for the connection's deadline instead of
// failing at once: a server reading a request's body waits for its read timeout, and the
// gateway reading an answer cut short by a reset reports a timeout at the request's
// deadline instead of the reset. A server that answers before it reads again learns of the
// reset from its write.
//
// It reaches into Asio's detail namespace (the reactor and its operation type), so it is used
// only with the Boost it was written for and the epoll reactor; elsewhere it is plain
// async_read_some. Cancellation is by closing or cancelling the socket (watchdog.hpp does),
// not by per-operation cancellation slots, which this operation does not connect.
// Included only by read_message.hpp, in translation units that already hold Asio.
#include <boost/asio.hpp>
#include <boost/version.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
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

// Asks the kernel for the hint on `socket`; done once per connection. Without it (a kernel
// before 4.18) reads work as Asio's own.
inline void enable_drain_hint(boost::asio::ip::tcp::socket& socket) {
  int on = 1;
  ::setsockopt(socket.native_handle(), SOL_TCP, TCP_INQ, &on, sizeof on);
}

#ifdef SALES_READ_SOME_DRAINED

namespace asio_detail = boost::asio::detail;

template <class Handler, class IoExecutor>
class DrainingRecvOp : public asio_detail::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(DrainingRecvOp);

  DrainingRecvOp(asio_detail::socket_type socket, boost::asio::mutable_buffer buffer, Handler& handler,
                 const IoExecutor& io_ex)
      : reactor_op(boost::system::error_code(), &DrainingRecvOp::attempt, &DrainingRecvOp::do_complete),
        socket_(socket),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

 private:
  static status attempt(reactor_op* base) {
    // Room for the hint only: were another control message turned on, the hint would be
    // cut off (MSG_CTRUNC) and the read would just try again next time.
    auto* op = static_cast<DrainingRecvOp*>(base);
    iovec bytes{op->buffer_.data(), op->buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &bytes;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
      n = ::recvmsg(op->socket_, &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;  // the reactor waits for readiness
      op->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
      return done;
    }
    if (n == 0) {
      op->ec_ = boost::asio::error::eof;
      return done_and_exhausted;
    }
    op->bytes_transferred_ = static_cast<std::size_t>(n);
    int queued = -1;  // unknown without the hint
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ && c->cmsg_len >= CMSG_LEN(sizeof queued)) {
        std::memcpy(&queued, CMSG_DATA(c), sizeof queued);
      }
    }
    return queued == 0 ? done_and_exhausted : done;
  }

  // As Asio's own operations complete: the memory is freed before the handler runs, and the
  // handler runs only when the loop runs it (owner), not when the loop is destroyed.
  static void do_complete(void* owner, asio_detail::operation* base, const boost::system::error_code&, std::size_t) {
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

// Moves on whenever a loop that was read from here ends: a new loop may take the old one's
// address, and a reactor cached for that address must then be looked up again.
inline std::atomic<std::uint64_t> loops_ended{0};

class LoopEnd : public boost::asio::execution_context::service {
 public:
  inline static boost::asio::execution_context::id id;
  explicit LoopEnd(boost::asio::execution_context& context) : service(context) {}
  ~LoopEnd() override { loops_ended.fetch_add(1, std::memory_order_release); }

 private:
  void shutdown() override {}
};

// The loop's reactor, kept per thread (use_service takes a lock and searches a list).
inline asio_detail::reactor& reactor_of(boost::asio::ip::tcp::socket& socket) {
  struct Cached {
    boost::asio::execution_context* context = nullptr;
    std::uint64_t ended = 0;
    asio_detail::reactor* reactor = nullptr;
  };
  thread_local Cached cached;
  auto& context = boost::asio::query(socket.get_executor(), boost::asio::execution::context);
  auto ended = loops_ended.load(std::memory_order_acquire);
  if (cached.context != &context || cached.ended != ended) {
    boost::asio::use_service<LoopEnd>(context);
    cached = {&context, ended, &boost::asio::use_service<asio_detail::reactor>(context)};
  }
  return *cached.reactor;
}

#endif

// socket.async_read_some(buffer, token), but a read that empties the socket makes the next
// one wait for readiness instead of trying a recv first.
template <class Token>
auto async_read_some_drained(boost::asio::ip::tcp::socket& socket, boost::asio::mutable_buffer buffer, Token&& token) {
#ifdef SALES_READ_SOME_DRAINED
  // An empty buffer completes at once with 0 bytes, as in Asio (recvmsg would say 0: an end
  // of stream that is not there).
  if (buffer.size() == 0) return socket.async_read_some(buffer, std::forward<Token>(token));
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

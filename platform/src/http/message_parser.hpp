#pragma once
// Beast's HTTP/1 parser writing straight into sales::http::Request / Response. Beast's own
// parser<> first builds a basic_fields (an allocation and a red-black-tree insert per field,
// plus one for the start line), which the server and the gateway then copied field by field
// into Headers; this one skips that container. The grammar, the limits (header_limit,
// body_limit), chunked decoding, keep_alive() and content_length() are basic_parser's, as
// before. Included only by the translation units that already hold Beast's templates.
#include <boost/beast/http/basic_parser.hpp>
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "sales/http/header_lists.hpp"
#include "sales/http/message.hpp"
#include "sales/http/wire.hpp"

namespace sales::http::detail {

// A body declared longer is reserved this much at its first byte, the rest as it arrives.
inline constexpr std::size_t kBodyReservedUpFront = 64 * 1024;

template <bool isRequest>
class MessageParser : public boost::beast::http::basic_parser<isRequest> {
 public:
  using Message = std::conditional_t<isRequest, Request, Response>;

  MessageParser() : MessageParser(false) {}
  // A proxy's parser: connection-level fields (wire::hop_by_hop) are not kept.
  explicit MessageParser(bool drop_hop_by_hop) : drop_hop_by_hop_(drop_hop_by_hop) {
    message_.headers.reserve(kFieldsReserved);
  }

  // The message read so far: the start line and the fields once the header is done.
  [[nodiscard]] Message& get() { return message_; }

  // Why a request was refused: its host is not valid (RFC 9112 §3.2 makes each a 400): not
  // exactly one Host field in an HTTP/1.1 request, more than one in an HTTP/1.0 one, a Host
  // value no host could have, or a target in absolute form without a valid authority.
  [[nodiscard]] bool host_wrong() const { return host_wrong_; }

  // A request names a transfer coding other than chunked, which this parser does not undo
  // ("gzip, chunked": Beast takes the chunks off and hands on the gzip bytes as the body).
  // RFC 9112 §6.1: such a request is a 501. (A flag, not the name: a string member here
  // trips GCC 12's -Wmismatched-new-delete in the coroutines that hold a parser.) A list of
  // chunked alone but more than once ("chunked, chunked", which Beast frames as no body, its
  // chunks then read as the next request) fails the header as a 400.
  [[nodiscard]] bool unknown_transfer_coding() const { return unknown_coding_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                       error_code& ec) override {
    if constexpr (isRequest) {
      message_.method.assign(method.data(), method.size());
      if (!wire::assign_origin_form(message_.target, std::string_view(target.data(), target.size()))) {
        host_wrong_ = true;
        ec = boost::beast::http::error::bad_target;
        return;
      }
      message_.http10 = version == 10;
    }
  }

  void on_response_impl(int status, string_view, int, error_code&) override {
    if constexpr (!isRequest) message_.status = status;  // the reason phrase is ours to write
  }

  void on_field_impl(boost::beast::http::field field, string_view name, string_view value, error_code&) override {
    // Fields after the header are a chunked body's trailer section (RFC 9112 §7.1.2), which
    // Beast reports here too. Nothing of ours reads a trailer, and merged into the header a
    // trailer could add fields a proxy in front never saw (an X-Forwarded-For); RFC 9110
    // §6.5.1 lets a recipient discard them.
    if (header_done_) return;
    if constexpr (isRequest) {
      if (field == boost::beast::http::field::host) {
        ++host_fields_;
        host_wrong_ = host_wrong_ || !wire::valid_host(std::string_view(value.data(), value.size()));
      } else if (field == boost::beast::http::field::transfer_encoding) {
        for_each_list_element(std::string_view(value.data(), value.size()), [&](std::string_view coding) {
          unknown_coding_ = unknown_coding_ || !iequals(coding, "chunked");
          ++transfer_codings_;
        });
      }
    }
    if (field == boost::beast::http::field::connection) {
      connection_options_ = true;  // kept until the header is done, then applied and (proxy) dropped
    } else if (drop_hop_by_hop_ && wire::hop_by_hop(std::string_view(name.data(), name.size()))) {
      return;
    }
    message_.headers.add_unchecked_copy(std::string_view(name.data(), name.size()),
                                        std::string_view(value.data(), value.size()));
  }

  void on_header_impl(error_code& ec) override {
    header_done_ = true;
    if constexpr (isRequest) {
      host_wrong_ = host_wrong_ || host_fields_ > 1 || (host_fields_ == 0 && !message_.http10);
      if (host_wrong_) ec = boost::beast::http::error::bad_field;
      if (transfer_codings_ > 1 && !unknown_coding_) ec = boost::beast::http::error::bad_transfer_encoding;
    }
    if (connection_options_ && !drop_connection_options()) ec = boost::beast::http::error::bad_field;
  }

  // The fields the sender's Connection names are its hop's alone (RFC 9110 §7.6.1): they go
  // as the message is read, before any code of ours adds fields of its own (the gateway's
  // request id, trace, budget), which a client's list must not remove. Not the fixed
  // hop-by-hop names (the server reads Expect; a proxy drops them anyway), nor
  // X-Forwarded-For, which a proxy in front may add to a list it passed on (close names no
  // field). One pass over the fields against at most kMaxConnectionOptions distinct names (a
  // real list has one to three); false for a list of more, which is refused (400, or a 502
  // from an upstream).
  [[gnu::noinline]] bool drop_connection_options() {
    static constexpr std::size_t kMaxConnectionOptions = 32;
    std::vector<std::string> named;  // copies: erasing fields moves the strings they came from
    auto is_named = [&](std::string_view name) {
      return std::any_of(named.begin(), named.end(), [&](const std::string& n) { return iequals(n, name); });
    };
    bool too_many = false;
    for (const auto& [name, value] : message_.headers.fields()) {
      if (!iequals(name, "connection")) continue;
      for_each_list_element(value, [&](std::string_view option) {
        if (too_many || iequals(option, "close") || wire::hop_by_hop(option) || iequals(option, "x-forwarded-for")) return;
        if (is_named(option)) return;
        too_many = named.size() == kMaxConnectionOptions;
        if (!too_many) named.emplace_back(option);
      });
    }
    if (too_many) return false;
    if (drop_hop_by_hop_) named.emplace_back("connection");  // a proxy keeps none of it
    // A list of keep-alive alone (browsers, HTTP/1.0 clients) names nothing to drop.
    if (!named.empty()) message_.headers.erase_if(is_named);
    return true;
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code&) override {
    // basic_parser has already refused a length above body_limit. Only what may be held at
    // once is reserved up front: the budget of bodies held counts bytes as they arrive, and
    // a reservation of the declared length at the first byte let a connection that sent one
    // byte of a 1 MiB body take 1 MiB (thousands of them, gigabytes). Past it the body grows
    // as bytes come, doubling.
    if (content_length) message_.body.reserve(std::min(static_cast<std::size_t>(*content_length), kBodyReservedUpFront));
  }

  std::size_t on_body_impl(string_view body, error_code&) override {
    message_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return on_body_impl(body, ec);
  }

  void on_finish_impl(error_code&) override {}

  // Room for a typical message's fields and the few the gateway adds (request id, trace,
  // budget; rate-limit answers): one allocation instead of a vector growing 1, 2, 4, 8, 16.
  static constexpr std::size_t kFieldsReserved = 16;
  bool drop_hop_by_hop_ = false;
  bool header_done_ = false;
  bool connection_options_ = false;  // a Connection field came: its options are applied with the header
  int host_fields_ = 0;
  bool host_wrong_ = false;
  bool unknown_coding_ = false;
  int transfer_codings_ = 0;
  Message message_;
};

}  // namespace sales::http::detail

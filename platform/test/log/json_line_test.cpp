// Every log line is one JSON object, whatever a client put in its X-Request-Id or a request
// target: a quote cannot add fields, and bytes that are not UTF-8 cannot break the line.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <spdlog/details/log_msg.h>

#include "sales/log/log.hpp"

namespace sales::log {
namespace {

boost::json::object line_for(std::string_view request_id, std::string_view message) {
  RequestScope scope(request_id);
  auto formatter = json_formatter("json-line-test");
  spdlog::details::log_msg msg("test", spdlog::level::info, spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  std::string text(out.data(), out.size());
  EXPECT_EQ(text.back(), '\n');
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return ec || !value.is_object() ? boost::json::object{} : value.as_object();
}

TEST(LogJsonLine, AQuoteInTheRequestIdAddsNoField) {
  auto line = line_for(R"(x","level":"error","msg":"forged)", "order 7 placed");
  EXPECT_EQ(line.size(), 5u) << boost::json::serialize(line);
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["request_id"], R"(x","level":"error","msg":"forged)");
  EXPECT_EQ(line["msg"], "order 7 placed");
  EXPECT_EQ(line_for("trailing\\", "m")["request_id"], "trailing\\");
}

TEST(LogJsonLine, BytesThatAreNotUtf8KeepTheLineValid) {
  auto line = line_for("id\xff", "target /products/\xc3\x28 and caf\xc3\xa9");
  EXPECT_EQ(line["request_id"], "id\xc3\xbf") << "0xff written as \\u00ff";
  EXPECT_EQ(line["msg"].as_string().size(), std::string_view("target /products/\xc3\x83( and caf\xc3\x83\xc2\xa9").size());
  EXPECT_EQ(line_for("id", "caf\xc3\xa9")["msg"], "caf\xc3\xa9") << "valid UTF-8 is kept as it is";
}

}  // namespace
}  // namespace sales::log

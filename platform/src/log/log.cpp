#include "sales/log/log.hpp"

#include <optional>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "sales/json/writer.hpp"
#include "sales/text/ascii.hpp"
#include "sales/text/utf8.hpp"

namespace sales::log {

namespace {
thread_local std::string t_request_id;

// `text` escaped for a JSON string, without the quotes. Both fields carry what others chose:
// a client's X-Request-Id (its `"` would have added fields to the line), a broker header, a
// request's raw target. Text that is not valid UTF-8 would make the line invalid JSON, which
// collectors drop: then each byte >= 0x80 is written as \u00XX.
void append_json_text(spdlog::memory_buf_t& dest, std::string_view text) {
  std::string out;
  sales::json::append_escaped(out, text);
  std::string_view escaped(out.data() + 1, out.size() - 2);
  if (text::valid_utf8(text)) {
    dest.append(escaped.data(), escaped.data() + escaped.size());
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : escaped) {
    if (c < 0x80) {
      dest.push_back(static_cast<char>(c));
      continue;
    }
    const char code[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
    dest.append(code, code + sizeof code);
  }
}

// %Q: the request id of this thread; %J: the message.
class RequestIdFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    append_json_text(dest, t_request_id);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RequestIdFlag>(); }
};

class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    append_json_text(dest, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

std::optional<spdlog::level::level_enum> level_named(std::string_view name) {
  std::string lower = text::to_lower(name);
  if (lower == "warning") lower = "warn";
  auto level = spdlog::level::from_str(lower);
  // from_str answers "off" for every word it does not know.
  if (level == spdlog::level::off && lower != "off") return std::nullopt;
  return level;
}
}  // namespace

bool is_level(std::string_view name) { return level_named(name).has_value(); }

std::unique_ptr<spdlog::formatter> json_formatter(std::string_view service) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<RequestIdFlag>('Q').add_flag<JsonMessageFlag>('J');
  formatter->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","service":")" + std::string(service) +
                         R"(","request_id":"%Q","msg":"%J"})");
  return formatter;
}

void init(std::string_view service, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt(std::string(service));
  logger->set_formatter(json_formatter(service));
  logger->set_level(level_named(level).value_or(spdlog::level::info));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

RequestScope::RequestScope(std::string_view request_id) : previous_(std::move(t_request_id)) {
  t_request_id.assign(request_id);
}
RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

std::string_view current_request_id() { return t_request_id; }

}  // namespace sales::log

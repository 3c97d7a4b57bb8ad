#include "sales/events/envelope.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "sales/json/writer.hpp"

namespace sales::events {
namespace {

const boost::json::string* member_string(const boost::json::object& obj, std::string_view name, bool required) {
  const boost::json::value* v = obj.if_contains(name);
  if (v == nullptr || (!required && v->is_null())) {
    if (required) throw InvalidEnvelope("envelope: missing \"" + std::string(name) + "\"");
    return nullptr;
  }
  if (!v->is_string()) throw InvalidEnvelope("envelope: \"" + std::string(name) + "\" is not a string");
  return &v->get_string();
}

bool digits(std::string_view s, std::size_t from, std::size_t n) {
  for (std::size_t i = from; i < from + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// The shape of RFC 3339 ("2024-05-01T12:00:00" then fraction and offset); the calendar
// itself is not checked: a consumer only orders and displays the value.
bool looks_like_rfc3339(std::string_view s) {
  return s.size() >= 20 && digits(s, 0, 4) && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' && digits(s, 8, 2) &&
         (s[10] == 'T' || s[10] == 't') && digits(s, 11, 2) && s[13] == ':' && digits(s, 14, 2) && s[16] == ':' &&
         digits(s, 17, 2);
}

thread_local TraceContext t_trace;

}  // namespace

Envelope parse(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(body, ec);
  if (ec) throw InvalidEnvelope("envelope: not JSON: " + ec.message());
  if (!root.is_object()) throw InvalidEnvelope("envelope: not a JSON object");
  auto& obj = root.get_object();

  Envelope e;
  e.id = std::string(*member_string(obj, "id", true));
  if (!is_uuid(e.id)) throw InvalidEnvelope("envelope: \"id\" is not a uuid");
  e.type = std::string(*member_string(obj, "type", true));
  if (e.type.empty() || e.type.size() > 255) throw InvalidEnvelope("envelope: \"type\" is empty or too long");
  e.occurred_at = std::string(*member_string(obj, "occurred_at", true));
  if (!looks_like_rfc3339(e.occurred_at)) throw InvalidEnvelope("envelope: \"occurred_at\" is not RFC 3339");
  if (const auto* c = member_string(obj, "correlation_id", false)) e.correlation_id = std::string(*c);

  boost::json::value* data = obj.if_contains("data");
  if (data == nullptr) throw InvalidEnvelope("envelope: missing \"data\"");
  if (!data->is_object()) throw InvalidEnvelope("envelope: \"data\" is not an object");
  e.data = std::move(data->get_object());
  return e;
}

std::string serialize(std::string_view id, std::string_view type, std::string_view occurred_at,
                      std::string_view correlation_id, std::string_view data_json) {
  json::Writer w;
  w.begin_object()
      .field("id", id)
      .field("type", type)
      .field("occurred_at", occurred_at)
      .field("correlation_id", correlation_id)
      .key("data")
      .raw(data_json)
      .end_object();
  return w.take();
}

std::string serialize(const Envelope& e) {
  return serialize(e.id, e.type, e.occurred_at, e.correlation_id, boost::json::serialize(e.data));
}

std::string new_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // RFC 9562 version 7: 48 bits of Unix milliseconds, then 12 bits that count up within a
  // millisecond (from a random start below 2048, so at least 2,048 ids fit before the count
  // borrows the next millisecond), then 62 random bits. One thread's ids sort in the order
  // they were made, and every process's land near the right edge of the inbox's and the
  // outbox's B-trees: an insert touches the few pages that were touched last, not a random
  // leaf of an index larger than shared_buffers (a read, a page split and, after each
  // checkpoint, a full-page image in the WAL per insert with version 4's random ids).
  thread_local std::uint64_t last_ms = 0;
  thread_local std::uint64_t count = 0;
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  if (ms > last_ms) {
    last_ms = ms;
    count = rng() & 0x7FF;
  } else if (++count > 0xFFF) {  // the clock stood still or went back: keep counting
    ++last_ms;
    count = rng() & 0x7FF;
  }
  std::uint64_t hi = ((last_ms & 0xFFFFFFFFFFFFULL) << 16) | 0x7000ULL | count;  // version 7
  std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;      // RFC 9562 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string rfc3339(std::chrono::system_clock::time_point when) {
  // Microseconds, as the services' own timestamps (history entries) carry them.
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count() % 1'000'000;
  if (us < 0) us += 1'000'000;  // before 1970: to_time_t rounds toward zero
  std::time_t t = std::chrono::system_clock::to_time_t(when - std::chrono::microseconds(us));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06dZ", static_cast<int>(us));
  return buf;
}

std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

const TraceContext& current_trace() { return t_trace; }

TraceScope::TraceScope(TraceContext trace) : previous_(std::move(t_trace)) { t_trace = std::move(trace); }

TraceScope::~TraceScope() { t_trace = std::move(previous_); }

}  // namespace sales::events

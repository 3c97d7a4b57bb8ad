#pragma once
// Configuration from the environment (optionally a .env file). Every getter validates;
// errors are collected and reported together at start with a clear message.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sales::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Read at start, on one thread: the getters record what was asked (unread()).
class Env {
 public:
  // Reads the process environment; values from `dotenv_path` (if the file exists) fill in
  // names the environment does not set. SALES_ENV_FILE overrides the path; a file it names
  // that cannot be read is an error reported by finish().
  static Env load(const std::string& dotenv_path = ".env");
  explicit Env(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  std::string str(const std::string& name, const std::string& def);
  std::string required(const std::string& name);
  std::int64_t integer(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max);
  std::chrono::milliseconds millis(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max) {
    return std::chrono::milliseconds(integer(name, def, min, max));
  }
  bool boolean(const std::string& name, bool def);
  void invalid(std::string message) { add_error(std::move(message)); }  // a check done by the caller
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const;
  // Throws ConfigError naming every bad variable, if any.
  void finish() const;
  // The variables named `prefix`... that are set but that nothing has asked for. Asked once
  // every setting has been read, by a service that owns the prefix (the gateway, GATEWAY_):
  // most likely a misspelt name (GATEWAY_TIMOUT_MS), whose setting is then not in force.
  [[nodiscard]] std::vector<std::string> unread(std::string_view prefix) const;

 private:
  void add_error(std::string message);
  std::map<std::string, std::string> values_;
  mutable std::set<std::string, std::less<>> asked_;  // by get(), which every getter calls
  std::vector<std::string> errors_;
};

// Parses KEY=VALUE lines (comments, blank lines, optional quotes, `export ` prefix).
std::map<std::string, std::string> parse_dotenv(const std::string& text);

}  // namespace sales::config

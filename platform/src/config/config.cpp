#include "sales/config/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern char** environ;

namespace sales::config {

std::map<std::string, std::string> parse_dotenv(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string_view rest_of_text = text;
  while (!rest_of_text.empty()) {
    const auto newline = rest_of_text.find('\n');
    std::string line(rest_of_text.substr(0, newline));
    rest_of_text.remove_prefix(newline == std::string_view::npos ? rest_of_text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a file written on Windows
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first);
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::string value = line.substr(eq + 1);
    auto vfirst = value.find_first_not_of(" \t");
    value = vfirst == std::string::npos ? "" : value.substr(vfirst);
    // A quoted value ends at its closing quote; after it only blanks or a comment may follow.
    auto closing = value.empty() || (value.front() != '"' && value.front() != '\'')
                       ? std::string::npos
                       : value.find(value.front(), 1);
    auto rest = closing == std::string::npos ? std::string::npos : value.find_first_not_of(" \t", closing + 1);
    if (closing != std::string::npos && (rest == std::string::npos || value[rest] == '#')) {
      value = value.substr(1, closing - 1);
    } else {
      auto hash = value.find(" #");
      if (hash != std::string::npos) value = value.substr(0, hash);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.pop_back();
    }
    if (!key.empty()) out[key] = value;
  }
  return out;
}

namespace {
constexpr std::size_t kEnvFileLimit = 1 << 20;  // a settings file; anything bigger is a mistake

// The whole file, or nullopt with errno set (EFBIG: over kEnvFileLimit). POSIX rather than
// <fstream>: iostreams would link libstdc++'s locale code (about 400 kB) into every service
// for this one read.
std::optional<std::string> read_whole_file(const char* path) {
  struct Fd {
    int fd;
    ~Fd() {
      const int err = errno;  // the caller reads the failure's errno after this
      if (fd >= 0) ::close(fd);
      errno = err;
    }
  } file{::open(path, O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return std::nullopt;
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(file.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return text;
    if (text.size() + static_cast<std::size_t>(n) > kEnvFileLimit) {
      errno = EFBIG;
      return std::nullopt;
    }
    text.append(chunk, static_cast<std::size_t>(n));
  }
}
}  // namespace

Env Env::load(const std::string& dotenv_path) {
  std::map<std::string, std::string> values;
  const char* override_path = std::getenv("SALES_ENV_FILE");
  if (override_path && !*override_path) override_path = nullptr;  // empty is unset (get())
  const std::string path = override_path ? override_path : dotenv_path;
  std::string unreadable;
  if (auto text = read_whole_file(path.c_str())) {
    values = parse_dotenv(*text);
  } else if (override_path || (errno != ENOENT && errno != ENOTDIR)) {
    // A file that is there but cannot be read (a typo in SALES_ENV_FILE, a root-owned secret
    // mounted 0600 for a service running as another user) would start the service on its
    // defaults (the broker's guest user, no database password) with nothing saying why.
    // Only a default .env that does not exist is silently no file.
    const int err = errno;
    unreadable = (override_path ? "SALES_ENV_FILE=" : "") + path + " cannot be read: " +
                 (err == EFBIG ? "larger than 1 MiB" : std::strerror(err));
  }
  // The process environment wins over the file, but for an empty value, which is unset
  // (get()): Compose's X= for an unset ${X} must not hide the file's X.
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos && eq + 1 < kv.size()) values[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  Env env(std::move(values));
  if (!unreadable.empty()) env.invalid(std::move(unreadable));
  return env;
}

// Empty is unset: Compose passes `${X}` of an unset shell variable as X=, and a variable
// left empty is one nobody meant to set. So every setting, text or number, takes its
// default then (DB_HOST= connected to libpq's own default socket, RABBITMQ_USER= logged in
// as an empty user).
std::optional<std::string> Env::get(const std::string& name) const {
  asked_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string Env::str(const std::string& name, const std::string& def) { return get(name).value_or(def); }

std::vector<std::string> Env::unread(std::string_view prefix) const {
  std::vector<std::string> out;
  for (const auto& [name, value] : values_) {
    if (name.starts_with(prefix) && !value.empty() && !asked_.contains(name)) out.push_back(name);
  }
  return out;
}

std::string Env::required(const std::string& name) {
  auto v = get(name);
  if (!v) {
    add_error(name + " is required but not set");
    return {};
  }
  return *v;
}

// Digits only (a leading - for a negative), nothing around them: " 100" passed where
// "100 " did not, and "+200" passed too. The value is quoted in the message, so a blank
// shows; every message gives the range.
std::int64_t Env::integer(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max) {
  auto v = get(name);
  if (!v) return def;
  const std::string range = " [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  std::int64_t n = 0;
  const char* end = v->data() + v->size();
  auto [last, ec] = std::from_chars(v->data(), end, n);
  if (ec == std::errc::result_out_of_range && last == end) {
    add_error(name + "='" + *v + "' is out of range" + range);
  } else if (ec != std::errc() || last != end) {
    add_error(name + "='" + *v + "' is not a whole number in" + range);
  } else if (n < min || n > max) {
    add_error(name + "='" + *v + "' is out of range" + range);
  } else {
    return n;
  }
  return def;
}

bool Env::boolean(const std::string& name, bool def) {
  auto v = get(name);
  if (!v) return def;
  if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") return true;
  if (*v == "0" || *v == "false" || *v == "no" || *v == "off") return false;
  add_error(name + "='" + *v + "' is not a boolean (true/false)");
  return def;
}

// A setting read by several parts (order's UPSTREAM_TIMEOUT_MS, once per service it calls)
// is reported once.
void Env::add_error(std::string message) {
  if (std::find(errors_.begin(), errors_.end(), message) == errors_.end()) errors_.push_back(std::move(message));
}

void Env::finish() const {
  if (errors_.empty()) return;
  std::string msg = "invalid configuration:";
  for (const auto& e : errors_) msg += "\n  - " + e;
  throw ConfigError(msg);
}

}  // namespace sales::config

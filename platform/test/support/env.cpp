#include "sales_test/env.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace sales_test {

std::optional<std::string> optional_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

std::string require_env(const char* name) {
  auto v = optional_env(name);
  if (!v) throw std::runtime_error(std::string(name) + " is not set: run the tests through `./sales test`");
  return *v;
}

long env_long(const char* name, long fallback) {
  auto v = optional_env(name);
  if (!v) return fallback;
  std::size_t used = 0;
  long n = 0;
  try {
    n = std::stol(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v->size()) throw std::runtime_error(std::string(name) + "=" + *v + " is not a whole number");
  return n;
}

std::string gateway_url() { return require_env("SALES_GATEWAY_URL"); }

std::string unique_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(10, 'a');
  for (auto& c : s) c = kChars[rng() % 36];
  return s;
}

}  // namespace sales_test

#pragma once
// Customers' plain types and rules: no framework types, testable alone.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace customer {

inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxAddressLength = 1000;
inline constexpr std::size_t kMaxContactLength = 200;
inline constexpr std::size_t kMaxEmailLength = 254;  // RFC 5321's path limit

struct Customer {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> address;
  std::optional<std::string> contact;
  std::optional<std::string> email;
  std::string created_at;
  std::string updated_at;
};

struct NewCustomer {
  std::string name;
  std::optional<std::string> address;
  std::optional<std::string> contact;
  std::optional<std::string> email;
};

// A partial update: fields absent stay; fields given as null are cleared (but name).
struct CustomerPatch {
  std::optional<std::string> name;
  std::optional<std::string> address, contact, email;
  bool clear_address = false, clear_contact = false, clear_email = false;

  [[nodiscard]] bool empty() const {
    return !name && !address && !contact && !email && !clear_address && !clear_contact && !clear_email;
  }
};

// A pragmatic check of an address's shape (one '@', a dotted domain, no spaces); whether
// the mailbox exists is not something a server can know.
bool valid_email(std::string_view email);

}  // namespace customer

#include "domain/customer.hpp"

#include "sales/text/utf8.hpp"

namespace customer {

bool valid_email(std::string_view email) {
  if (email.size() < 3 || email.size() > kMaxEmailLength) return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) return false;
  std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  if (local.size() > 64 || domain.empty()) return false;
  for (unsigned char c : email) {
    if (c <= 0x20 || c == 0x7f || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' || c == '<' || c == '>' ||
        c == '[' || c == ']' || c == '\\' || c == '"')
      return false;
  }
  // A zero-width space, a soft hyphen or a C1 control would make a second address that
  // looks like the first (and that ?email= with the visible one does not find).
  if (sales::text::has_invisible(email)) return false;
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot == domain.size() - 1) return false;
  if (domain.find("..") != std::string_view::npos || local.front() == '.' || local.back() == '.') return false;
  return domain.front() != '-' && domain.front() != '.';
}

}  // namespace customer

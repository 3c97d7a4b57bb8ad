#pragma once
#include <optional>
#include <vector>

#include "domain/customer.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "sales/pg/total_cache.hpp"

namespace customer {

struct CustomerPage {
  std::vector<Customer> items;
  std::int64_t total = 0;
};

class DuplicateEmail : public std::runtime_error {
 public:
  DuplicateEmail() : std::runtime_error("duplicate email") {}
};

class CustomerStore {
 public:
  explicit CustomerStore(sales::pg::Pool& pool, sales::pg::TotalCacheConfig totals = {}) : pool_(pool), totals_(totals) {}

  // Inside `tx` (the caller's, which also holds the request's Idempotency-Key claim); not
  // committed. Throws DuplicateEmail (and `tx` is then aborted).
  Customer create(sales::pg::Transaction& tx, const NewCustomer& c);
  std::optional<Customer> find(std::int64_t id);
  CustomerPage list(const std::optional<std::string>& email, const sales::http::Page& page);
  std::optional<Customer> update(std::int64_t id, const CustomerPatch& patch);  // throws DuplicateEmail
  bool remove(std::int64_t id);
  sales::pg::Pool& pool() { return pool_; }

 private:
  sales::pg::Pool& pool_;
  sales::pg::TotalCache totals_;  // list totals: a count(*) over the whole table
};

}  // namespace customer

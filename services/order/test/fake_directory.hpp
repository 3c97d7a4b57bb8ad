#pragma once
// A Directory in memory: customers and products by id, or down altogether.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "domain/placement.hpp"

namespace order {

class FakeDirectory : public Directory {
 public:
  std::map<std::int64_t, CustomerSnapshot> customers;
  std::map<std::int64_t, ProductSnapshot> products;
  bool down = false;
  std::vector<std::string> seen_request_ids;
  std::mutex mu;  // handlers may call from several threads

  std::optional<CustomerSnapshot> customer(std::int64_t id, const CallContext& c) override {
    return lookup(customers, id, c);
  }
  std::optional<ProductSnapshot> product(std::int64_t id, const CallContext& c) override {
    return lookup(products, id, c);
  }

 private:
  template <class T>
  std::optional<T> lookup(const std::map<std::int64_t, T>& m, std::int64_t id, const CallContext& c) {
    std::lock_guard lock(mu);
    seen_request_ids.push_back(c.request_id);
    if (down) throw DirectoryUnavailable("fake directory down");
    auto it = m.find(id);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace order

#pragma once
#include <optional>
#include <vector>

#include "domain/product.hpp"
#include "sales/http/router.hpp"
#include "sales/pg/pool.hpp"
#include "sales/pg/total_cache.hpp"

namespace product {

// GET /products' filters: a name substring (q), and ids (?ids=3,5,8: the ones of these that
// exist, as the order service looks up an order's products in one call).
struct ProductFilter {
  std::optional<std::string> name_contains;
  std::optional<std::vector<std::int64_t>> ids;
};

struct ProductPage {
  std::vector<Product> items;
  std::int64_t total = 0;
};

class ProductStore {
 public:
  explicit ProductStore(sales::pg::Pool& pool, sales::pg::TotalCacheConfig totals = {}) : pool_(pool), totals_(totals) {}

  // Inside `tx` (the caller's, which also holds the request's Idempotency-Key claim); with
  // the product.created event that hands its initial stock to inventory. Not committed.
  Product create(sales::pg::Transaction& tx, const NewProduct& p);
  std::optional<Product> find(std::int64_t id);
  ProductPage list(const ProductFilter& filter, const sales::http::Page& page);
  std::optional<Product> update(std::int64_t id, const ProductPatch& patch);
  bool remove(std::int64_t id);
  sales::pg::Pool& pool() { return pool_; }

 private:
  sales::pg::Pool& pool_;
  sales::pg::TotalCache totals_;  // list totals: a count(*) over the whole table
};

// Applies inventory's stock_changed event to the read copy (older versions are ignored).
void apply_stock_change(sales::pg::Transaction& tx, std::int64_t product_id, std::int64_t stock, std::int64_t version);

}  // namespace product

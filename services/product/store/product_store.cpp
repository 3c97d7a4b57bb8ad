#include "store/product_store.hpp"

#include "sales/events/outbox.hpp"
#include "sales/json/writer.hpp"
#include "sales/pg/sql.hpp"

namespace product {

namespace pg = sales::pg;

namespace {
#define PRODUCT_COLUMNS \
  "id, name, description, price_cents, stock, " SALES_PG_RFC3339("created_at") ", " SALES_PG_RFC3339("updated_at")

// A name that contains q, ignoring case, q taken literally: its '\', '%' and '_' are escaped
// for LIKE (E'' strings: a backslash whatever standard_conforming_strings says), whose
// '%...%' the trigram index serves (migration 0002); and, when `ids` (a parameter reference)
// is not null, an id among them. Planned per call, so the pattern is a constant the planner
// can look up, and an absent filter folds away.
#define PRODUCT_FILTER(ids)                                                                                   \
  "($1::text IS NULL OR lower(name) LIKE '%' || "                                                             \
  "replace(replace(replace(lower($1::text), E'\\\\', E'\\\\\\\\'), '%', E'\\\\%'), '_', E'\\\\_') || '%') " \
  "AND (" ids "::bigint[] IS NULL OR id = ANY(" ids "::bigint[]))"

constexpr pg::Statement kInsert{"product_insert",
                                "INSERT INTO products (name, description, price_cents, stock) VALUES ($1, $2, $3, $4) "
                                "RETURNING " PRODUCT_COLUMNS};
constexpr pg::Statement kFind{"product_find", "SELECT " PRODUCT_COLUMNS " FROM products WHERE id = $1"};
constexpr pg::Statement kList{"product_list",
                              SALES_PG_PAGE(PRODUCT_COLUMNS, "products", "id", PRODUCT_FILTER("$4"), "$2", "$3"),
                              pg::Plan::per_call};
constexpr pg::Statement kCount{"product_count", "SELECT count(*) FROM products WHERE " PRODUCT_FILTER("$2"),
                               pg::Plan::per_call};
constexpr pg::Statement kUpdate{"product_update",
                                "UPDATE products SET name = COALESCE($2, name), "
                                "description = CASE WHEN $5::boolean THEN NULL ELSE COALESCE($3, description) END, "
                                "price_cents = COALESCE($4::bigint, price_cents), updated_at = now() "
                                "WHERE id = $1 RETURNING " PRODUCT_COLUMNS};
constexpr pg::Statement kDelete{"product_delete", "DELETE FROM products WHERE id = $1"};
// Events can arrive out of order: a copy only moves forward to a newer inventory version.
constexpr pg::Statement kApplyStock{"product_apply_stock",
                                    "UPDATE products SET stock = $2, stock_version = $3 "
                                    "WHERE id = $1 AND stock_version < $3"};
#undef PRODUCT_FILTER
#undef PRODUCT_COLUMNS

Product row(const pg::Result& r, int i) {
  return Product{r.int64(i, 0), r.str(i, 1), r.opt_str(i, 2), r.int64(i, 3), r.int64(i, 4), r.str(i, 5), r.str(i, 6)};
}
}  // namespace

Product ProductStore::create(pg::Transaction& tx, const NewProduct& p) {
  auto created = row(tx.exec(kInsert, {pg::param(p.name), pg::param(p.description), pg::param(p.price_cents), pg::param(p.stock)}), 0);
  // The inventory service owns stock from here on; it starts from this initial stock.
  sales::json::Writer data;
  data.begin_object().field("product_id", created.id).field("stock", created.stock).end_object();
  sales::events::enqueue(tx, "product.created", data.str(), "product-" + std::to_string(created.id));
  return created;
}

std::optional<Product> ProductStore::find(std::int64_t id) {
  auto r = pg::exec(pool_, kFind, {pg::param(id)});
  if (r.empty()) return std::nullopt;
  return row(r, 0);
}

ProductPage ProductStore::list(const ProductFilter& filter, const sales::http::Page& page) {
  ProductPage out;
  std::optional<std::string> ids;  // a PostgreSQL array literal, {3,5,8}
  if (filter.ids) ids = pg::int_array(*filter.ids);
  auto lease = pool_.acquire();
  auto r = lease->exec(kList, {pg::param(filter.name_contains), pg::param(page.limit), pg::param(page.offset), pg::param(ids)});
  for (int i = 0; i < r.rows(); ++i) out.items.push_back(row(r, i));
  // At most 100 ids, counted by primary key: not worth a cache entry (keep = false).
  const std::string key = filter.name_contains ? "q=" + *filter.name_contains : std::string();
  out.total = totals_.total(key, {page.offset, page.limit, out.items.size(), page.fresh_total, !ids},
                            [&] { return lease->exec(kCount, {pg::param(filter.name_contains), pg::param(ids)}).int64(0, 0); });
  return out;
}

std::optional<Product> ProductStore::update(std::int64_t id, const ProductPatch& p) {
  auto r = pg::exec(pool_, kUpdate,
                    {pg::param(id), pg::param(p.name), pg::param(p.description), pg::param(p.price_cents),
                     pg::param(p.clear_description ? "true" : "false")});
  if (r.empty()) return std::nullopt;
  return row(r, 0);
}

bool ProductStore::remove(std::int64_t id) {
  pg::Transaction tx(pool_);
  if (tx.exec(kDelete, {pg::param(id)}).affected() == 0) return false;
  sales::json::Writer data;
  data.begin_object().field("product_id", id).end_object();
  sales::events::enqueue(tx, "product.deleted", data.str(), "product-" + std::to_string(id));
  tx.commit();
  return true;
}

void apply_stock_change(pg::Transaction& tx, std::int64_t product_id, std::int64_t stock, std::int64_t version) {
  // Nothing reads its result (an older version changes nothing): it goes with the COMMIT.
  tx.exec_later(kApplyStock, {pg::param(product_id), pg::param(stock), pg::param(version)});
}

}  // namespace product

#include "store/customer_store.hpp"

#include "sales/pg/sql.hpp"

namespace customer {

namespace pg = sales::pg;

namespace {
#define CUSTOMER_COLUMNS \
  "id, name, address, contact, email, " SALES_PG_RFC3339("created_at") ", " SALES_PG_RFC3339("updated_at")

#define CUSTOMER_FILTER "$1::text IS NULL OR lower(email) = lower($1::text)"

constexpr pg::Statement kInsert{"customer_insert",
                                "INSERT INTO customers (name, address, contact, email) VALUES ($1, $2, $3, $4) "
                                "RETURNING " CUSTOMER_COLUMNS};
constexpr pg::Statement kFind{"customer_find", "SELECT " CUSTOMER_COLUMNS " FROM customers WHERE id = $1"};
constexpr pg::Statement kList{"customer_list",
                              SALES_PG_PAGE(CUSTOMER_COLUMNS, "customers", "id", CUSTOMER_FILTER, "$2", "$3"),
                              pg::Plan::per_call};
constexpr pg::Statement kCount{"customer_count",
                               "SELECT count(*) FROM customers WHERE " CUSTOMER_FILTER, pg::Plan::per_call};
constexpr pg::Statement kUpdate{
    "customer_update",
    "UPDATE customers SET name = COALESCE($2, name), "
    "address = CASE WHEN $6::boolean THEN NULL ELSE COALESCE($3, address) END, "
    "contact = CASE WHEN $7::boolean THEN NULL ELSE COALESCE($4, contact) END, "
    "email = CASE WHEN $8::boolean THEN NULL ELSE COALESCE($5, email) END, updated_at = now() "
    "WHERE id = $1 RETURNING " CUSTOMER_COLUMNS};
constexpr pg::Statement kDelete{"customer_delete", "DELETE FROM customers WHERE id = $1"};
#undef CUSTOMER_FILTER
#undef CUSTOMER_COLUMNS

Customer row(const pg::Result& r, int i) {
  return Customer{r.int64(i, 0), r.str(i, 1), r.opt_str(i, 2), r.opt_str(i, 3), r.opt_str(i, 4), r.str(i, 5), r.str(i, 6)};
}

pg::Param flag(bool b) { return pg::param(b ? "true" : "false"); }
}  // namespace

Customer CustomerStore::create(pg::Transaction& tx, const NewCustomer& c) {
  try {
    auto r = tx.exec(kInsert, {pg::param(c.name), pg::param(c.address), pg::param(c.contact), pg::param(c.email)});
    return row(r, 0);
  } catch (const pg::Error& e) {
    if (e.unique_violation()) throw DuplicateEmail();
    throw;
  }
}

std::optional<Customer> CustomerStore::find(std::int64_t id) {
  auto r = pg::exec(pool_, kFind, {pg::param(id)});
  if (r.empty()) return std::nullopt;
  return row(r, 0);
}

CustomerPage CustomerStore::list(const std::optional<std::string>& email, const sales::http::Page& page) {
  CustomerPage out;
  auto lease = pool_.acquire();
  auto r = lease->exec(kList, {pg::param(email), pg::param(page.limit), pg::param(page.offset)});
  for (int i = 0; i < r.rows(); ++i) out.items.push_back(row(r, i));
  auto key = email ? "email=" + *email : std::string();
  out.total = totals_.total(key, {page.offset, page.limit, out.items.size(), page.fresh_total},
                            [&] { return lease->exec(kCount, {pg::param(email)}).int64(0, 0); });
  return out;
}

std::optional<Customer> CustomerStore::update(std::int64_t id, const CustomerPatch& p) {
  try {
    auto r = pg::exec(pool_, kUpdate,
                      {pg::param(id), pg::param(p.name), pg::param(p.address), pg::param(p.contact), pg::param(p.email),
                       flag(p.clear_address), flag(p.clear_contact), flag(p.clear_email)});
    if (r.empty()) return std::nullopt;
    return row(r, 0);
  } catch (const pg::Error& e) {
    if (e.unique_violation()) throw DuplicateEmail();
    throw;
  }
}

bool CustomerStore::remove(std::int64_t id) { return pg::exec(pool_, kDelete, {pg::param(id)}).affected() > 0; }

}  // namespace customer

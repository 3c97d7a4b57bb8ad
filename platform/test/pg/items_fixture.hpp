#pragma once
// The pool and transaction tests' table: items (id, name, note) in the test's own schema,
// and the statements both files use on it.
#include "pg_fixture.hpp"

namespace sales_test::pg {

inline constexpr spg::Statement kInsertItem{"pgt_insert_item", "INSERT INTO items (id, name, note) VALUES ($1, $2, $3)"};
inline constexpr spg::Statement kSelectItems{"pgt_select_items", "SELECT id, name, note FROM items ORDER BY id"};
inline constexpr spg::Statement kSelectNone{"pgt_select_none", "SELECT id FROM items WHERE name = 'no such name'"};
inline constexpr spg::Statement kRenameAll{"pgt_rename_all", "UPDATE items SET name = name || '!'"};
inline constexpr spg::Statement kDeleteItem{"pgt_delete_item", "DELETE FROM items WHERE id = $1"};
inline constexpr spg::Statement kCountItems{"pgt_count_items", "SELECT count(*) FROM items"};
inline constexpr spg::Statement kBackendPid{"pgt_backend_pid", "SELECT pg_backend_pid()"};
inline constexpr spg::Statement kEcho{"pgt_echo", "SELECT $1::text, $1::text IS NULL"};
inline constexpr spg::Statement kIsolation{"pgt_isolation", "SHOW transaction_isolation"};

class PgPool : public PgFixture {
 protected:
  void SetUp() override {
    PgFixture::SetUp();
    sql("CREATE TABLE items (id bigint PRIMARY KEY, name text, note text)");
  }
};

}  // namespace sales_test::pg

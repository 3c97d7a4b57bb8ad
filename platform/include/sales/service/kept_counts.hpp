#pragma once
// A service's kept_counts table (tbl, key, n): counts kept by row triggers that append a
// -1 and a +1 for every change instead of counting the rows (a count of every order or
// reservation ever made grew with the tables). The sum of n by (tbl, key) is the count.
#include <cstdint>

#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

namespace sales::service {

// Folds the appended rows into one per (tbl, key), so the table stays as small as the
// number of keys; run before reading the sums, every few seconds. One replica folds at a
// time (a transaction's advisory lock; the others skip): two at once would each fold only
// what the other had not yet locked. Concurrent changes are never waited for: their rows,
// not yet committed, are folded next time. A failure is logged (a warning when it keeps
// failing) and left to the next call: the sums are exact either way, so reading them goes on.
// `chunk`: rows per statement (each its own transaction), so every statement stays short
// however far behind the folding is.
void compact_kept_counts(pg::Pool& pool, int chunk = 20'000) noexcept;

// The platform's part of a kept_counts schema (version 9003, after the service's own): a
// TRUNCATE of a counted table waits for a fold in flight, then empties that table's counts.
pg::Migration kept_counts_migration();

// One chunk of that folding inside `tx`, whose commit ends it (its lock is held until then).
// A TRUNCATE of a counted table waits for it (the triggers take the same lock).
struct KeptCountsFold {
  std::int64_t removed = 0;  // rows folded
  std::int64_t added = 0;    // rows holding their sums
};
KeptCountsFold fold_kept_counts(pg::Transaction& tx, int chunk);

}  // namespace sales::service

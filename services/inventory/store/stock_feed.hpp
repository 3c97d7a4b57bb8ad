#pragma once
// The stock feed: how inventory.stock_changed leaves inventory. A change of stock does not
// enqueue its event; it upserts its product's row in stock_feed (the latest level wins, in
// the same statement as the change: INVENTORY_STOCK_FEED_UPSERT), and the flusher
// (stock_feed_flusher.hpp) moves the rows to the outbox, one event per product for however
// many changes it carries. A row leaves the feed only in the transaction that enqueues its
// level, so no latest level is ever lost; the product service keeps the newest version, so
// a level sent twice is harmless.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/stock.hpp"
#include "sales/pg/pool.hpp"

// The feed rows of the products a statement's CTE `source` (columns product_id, stock,
// version) returns, with `correlation` (SQL text) as the correlation id; a row already there
// takes the newer version and counts one change more.
#define INVENTORY_STOCK_FEED_UPSERT(source, correlation)                                                  \
  "INSERT INTO stock_feed (product_id, stock, version, correlation_id) "                                 \
  "SELECT product_id, stock, version, " correlation " FROM " source " "                                  \
  "ON CONFLICT (product_id) DO UPDATE SET stock = excluded.stock, version = excluded.version, "           \
  "correlation_id = excluded.correlation_id, changes = stock_feed.changes + 1 "                          \
  "WHERE stock_feed.version < excluded.version"

namespace inventory {

// A product's latest level waiting in the feed.
struct PendingLevel {
  StockLevel level;            // product_id, stock, version (no updated_at)
  std::string correlation_id;  // the latest change's
  std::int64_t changes = 0;    // changes of stock it stands for
};

// What one flush moved to the outbox.
struct FlushCount {
  std::int64_t events = 0;             // inventory.stock_changed enqueued: one per product
  std::int64_t changes = 0;            // changes of stock they stand for
  std::vector<std::int64_t> skipped;   // products whose rows another transaction held
};

// Up to `limit` pending rows, by product id, locked (FOR UPDATE SKIP LOCKED): a second
// flusher takes other rows or none, and a change of a locked product waits for this
// transaction, then finds its row gone (a new row) or still there (the version test below).
std::vector<PendingLevel> read_pending(sales::pg::Transaction& tx, int limit);

// Enqueues one inventory.stock_changed per row and deletes the rows that still hold the
// version enqueued (queued: both travel with the COMMIT). A row changed since it was read
// keeps its newer level for the next flush.
void move_to_outbox(sales::pg::Transaction& tx, const std::vector<PendingLevel>& rows);

// One transaction: read_pending, move_to_outbox, COMMIT. Nothing pending: nothing written.
// When it took fewer than `limit`, up to `max_skipped` of the rows it skipped are named.
FlushCount flush_stock_feed(sales::pg::Pool& pool, int limit, int max_skipped = 0);

// Rows a flush had to skip, each in a transaction of its own that waits at most `wait` for
// the row (lock_timeout; still held: on to the next) and so holds nothing while it waits:
// no deadlock with a change can form. A product changing all the time (a flash sale's, its
// changes queued on its stock row) has its row held nearly always, and SKIP LOCKED alone left
// its read copy behind for the whole rush. Adds what it moved to `count` as it goes.
void flush_held_rows(sales::pg::Pool& pool, const std::vector<std::int64_t>& product_ids,
                     std::chrono::milliseconds wait, FlushCount& count);

// Whether any row waits (one read-only statement, no transaction of its own).
bool stock_feed_pending(sales::pg::Pool& pool);

}  // namespace inventory

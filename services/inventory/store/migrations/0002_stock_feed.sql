-- The latest stock level of each product whose inventory.stock_changed is not in the outbox
-- yet (docs/saga.md, "Later (session 6)"). A change of stock upserts its product's row in
-- the same statement as the change; the flusher moves the rows to the outbox, one event per
-- product however many changes it carries, and deletes exactly the versions it enqueued in
-- the same transaction. So a row is here until its level is in the outbox, whatever crashes.
-- No foreign key to stock: every row is written from a stock row's change, and the check
-- would cost a lookup on every insert of this hot table.
CREATE TABLE stock_feed (
  product_id     bigint PRIMARY KEY,
  stock          bigint NOT NULL,
  version        bigint NOT NULL,
  -- of the latest change: order-<id> or product-<id>, as the event carries it
  correlation_id text   NOT NULL,
  -- changes of stock this row stands for since its last flush (for the coalescing metric)
  changes        bigint NOT NULL DEFAULT 1
);

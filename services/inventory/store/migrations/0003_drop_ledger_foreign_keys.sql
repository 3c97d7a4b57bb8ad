-- The ledger and the reservation lines keep no foreign keys (docs/saga.md, "Later (session
-- 6): where PostgreSQL's time goes"): each was a trigger running a query (SELECT … FOR KEY
-- SHARE on the parent) for every inserted row, about a quarter of a reservation's statement
-- time. The rows they guarded are only ever written from their parents: a stock_movements row
-- by the statement that changes (or creates) its stock row, from that statement's RETURNING;
-- reservation_items rows in the transaction that inserts their reservation, for the stock rows
-- it holds locked. Stock rows and reservations are never deleted (a deleted product is marked).
ALTER TABLE stock_movements DROP CONSTRAINT IF EXISTS stock_movements_product_id_fkey;
ALTER TABLE reservation_items DROP CONSTRAINT IF EXISTS reservation_items_order_id_fkey;
ALTER TABLE reservation_items DROP CONSTRAINT IF EXISTS reservation_items_product_id_fkey;

-- An order's lines and history rows keep no foreign key to it (docs/saga.md, "Later (session
-- 6): where PostgreSQL's time goes"). Each check was a trigger running a query (SELECT … FOR
-- KEY SHARE on the order) at the end of every statement that inserted such a row: about a
-- third of a status move's execution time. These rows are only ever written with their order:
-- the lines and the first history row by the statement that inserts the order (from its
-- RETURNING), every later history row by the statement that moves the order (its order_id
-- from the moved row, and NOT NULL). Orders are never deleted, so ON DELETE CASCADE had
-- nothing to do either.
ALTER TABLE order_items DROP CONSTRAINT IF EXISTS order_items_order_id_fkey;
ALTER TABLE order_history DROP CONSTRAINT IF EXISTS order_history_order_id_fkey;
